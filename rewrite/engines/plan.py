"""The plan engine: decide per clause, change only what offends.

Per masked chunk (facts are placeholders, so they cannot be touched):

1. split into clauses (:func:`rewrite.norms.critic.clause_spans`);
2. judge each clause in context: the clause critic (tone) and the rule library (fixed words);
3. plan each clause:

   * **keep** — nothing offends: only the tidy-up (你→您, the 哦/恩/嗯 particles the seeds forbid);
   * **drop** — pure blame, impatience, rhetoric or a curt brush-off that carries no fact
     (急也没用, 又不是我们的问题, 爱等不等) and that the generator could not rewrite acceptably: it
     goes, and the frame below speaks for it;
   * **rewrite** — anything else that offends: first the generator's n-best for that clause (the
     seq2seq model, trained on the clause split too), the first candidate that keeps the clause's
     placeholders, half its content characters and, when it refuses or denies, a negation, and
     that neither the critic (in the reply's context) nor the rules fault; else
     the rules rewrite of that clause alone (no frame), re-judged; if it still offends, the category's repair (regret before a refusal, 请您 before a
     command; no offer of help after a deflection, which judges read as an invented promise). An offending clause is never passed through
     as it was; when nothing repairs it and it carries no fact, it is dropped, and ``notes`` say so;
     so is one that the critic is sure still offends after every repair and that only argues
     (系统判定不会出错, 谁来都一样: no fact, decision, alternative or place to turn), when another
     clause carries the answer;

4. frame the reply from the acts, never from a keyword: an apology when something was refused,
   deflected or blamed (none for contradicting the customer, and no offer to check: judges read it as invented); thanks for the
   understanding after a refusal; nothing at all when nothing offended.

A reply in which nothing offends comes back as it was, apart from the tidy-up: spacing, Latin
words, masked tokens, emoticon codes and signatures are never touched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rewrite.norms.critic import clause_spans
from rewrite.protect import PLACEHOLDER_RE
from rewrite.text import NAMED_GREETING, split_signature

#: Categories whose clause goes when it carries no fact. A curt clause goes only when it is a
#: brush-off (:data:`_BRUSH_OFF`): a terse report (人就走了) carries the news, and dropping it was
#: judged fact_changed.
DROP_CATEGORIES = frozenset({"blame", "impatience", "rhetorical", "contradict"})
_BRUSH_OFF = re.compile(r"[吧呗嘛]$|再说|就这样|就行|就好|算了|随(?:你|您|便)|要不要|哪知道")
#: A curt or contradicting clause with a negation may carry the decision itself (来不了, 没有少发):
#: it is rewritten, never dropped.
DECISION_CATEGORIES = frozenset({"curt", "contradict"})
_NEGATION = re.compile(r"(?<!对)不(?!起|好意思|便)|[没无未]")
#: A negation that argues rather than decides (又不影响用, 不用再问了, 不是坑您): when nothing repairs
#: such a clause it may go, though a curt clause with a negation otherwise stays (来不了).
_RHETORIC = re.compile(r"又(?:不|没)|不用再|别再|不是坑|有什么用|有啥用|怎么知道")
#: A copula that gives a cause or a diagnosis (是您自己跳闸了); 不是 argues and does not count.
_CAUSE = re.compile(r"(?<!不)是")
#: A clause that says who must do or pay what (得您自己出钱, 需要重新办) carries the decision: it is
#: rewritten, never dropped, whatever its category.
_OBLIGATION = re.compile(r"(?<![记觉值懂获晓取])得(?![了到知])|需要|必须|只能|[出付掏]钱|费用|赔|退款|退货|换货|补交|补办|归(?:您|你|业主|用户)|"
                         r"(?<!修好)就(?:好|行|可以)了")  # 交了钱就好了: the remedy
#: Share of a clause's content characters a generated rewrite of it must keep.
MIN_CLAUSE_COVERAGE = 0.5
#: The same for a clause generator of its own (``clause_model``), by :func:`clause_coverage` (short
#: clauses count too, a negation is kept by any negation); such a candidate must also not be
#: :func:`garbled` nor :func:`invents` anything. The seq2seq model, which answers a clause with the
#: phrasebook's whole sentences (大点声 → 对不起，您的声音有点小，请您稍微大声一点好吗？, judged
#: acceptable), keeps the looser gate.
MIN_CLAUSE_GEN_COVERAGE = 0.75
#: Words a rewrite is meant to lose, left out of :func:`clause_coverage` (今天肯定到 → 预计今天可以送到,
#: 你自己查下短信 → 您可以查看一下短信).
_OFFENCE_WORDS = re.compile(r"肯定|一定|保证|保准|绝对|百分之?百|自己|自行")
#: A negation in a rewrite (兑不了 → 暂时无法兑换 keeps the 不 of the clause).
_ANY_NEGATION = re.compile(r"[不没无未别勿非]")
#: Categories that earn an apology at the head of the reply.
#: (Not contradict: judges read 非常抱歉 in front of a reply that sets a charge or a fact straight
#: as the wrong frame.)
APOLOGY_CATEGORIES = frozenset({"blame", "impatience", "rhetorical", "refuse", "deflect", "curt"})
#: Rule findings of these severities make a clause offend (low ones are particle tidy-ups).
OFFENDING_SEVERITIES = ("high", "medium")
#: A dropped clause longer than this is kept and rewritten instead (it may carry content).
MAX_DROP_CHARS = 16
#: Nor is a clause dropped that has more content characters than this
#: (:func:`~rewrite.engines.seq2seq.backend.content_chars`): 急也没用 has 3, 你签了字的 2, while
#: 您卡被冻结是您自己密码输错了 has 9 and says why the card is frozen.
MAX_DROP_CONTENT = 6
#: The longest offending clause dropped when nothing repairs it (see :func:`_droppable`).
MAX_UNREPAIRED_DROP_CHARS = 20

_PARTICLE = re.compile(r"(?<![\u4e00-\u9fff])[嗯恩]+(?=[\s，,。！？]|$)|[哦噢](?=[\s，,。！？~～]|$)|(?<=[\u4e00-\u9fff])[哦噢](?=[\u4e00-\u9fff])")
_NI = re.compile(r"(?<!迷)你(?!们)")
_STOCK_OFFER = "请问还有什么可以帮您"
#: What opens or closes a conversation, never a clause's rewrite (:meth:`PlanBackend._generate`).
_CONVERSATION_FORMULA = re.compile(r"您好|你好|我在的|请问(?:还)?有(?:什么|其他)|需要帮助|再见|来电|客服同事|为您服务|很高兴|"
                                   r"没(?:有)?听清|再说一遍")
# No offer of help is added after a deflection: all 54 blind judgments of replies carrying
# 我可以帮您联系相关部门 (or the rules' old 我为您联系相关部门处理) were 不可用, 30 of them for an
# invented promise and 30 for a sentence it broke.
#: First characters that start a subject, not a verb: no 请您 in front (请您师傅都说了 is garbled).
_NOT_A_VERB = frozenset("这那我他她它师系机如因所但可要是在有对")
_APOLOGY = re.compile(r"抱歉|对不起|不好意思|歉意")
#: Good news in a reply (挂失已经办好了, 修好了): a dropped clause earns it no apology.
_GOOD_NEWS = re.compile(r"办好|修好|好了|成功|已(?:经)?为您|到账了|已经到了|已送达|已(?:经)?发货")
#: A greeting that opens a reply (the apology goes after it).
_GREETING = re.compile(r"^(?:回复@[^：:\s，,]{1,20}[：:]\s*(?:(?:您好|你好)[，,！!\s]*)?|(?:(?:您好|你好|好的|亲爱的|亲亲?|尊敬的[^，,。！!]{0,8}|@[^\s，,。！!@]{1,20}|" + NAMED_GREETING + r"|[^，,。！!\s@]{1,8}(?:您好|你好))[，,！!\s]+)+)")
_CLOSED = re.compile(r"(?:谢谢|感谢|再见|祝您|理解)[^，。！？]*[。！!~～]?$")
# (a closing bracket ends an emoticon code, [微笑], never a masked token: [订单x] → [订单<EN1>])
_END = re.compile(r"(?:[。！？!?~～…）)]|(?<![x>])\])$|小编$|小沃$|小U$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class ClausePlan:
    """What the planner decided for one clause (kept for notes and tests)."""

    text: str
    action: str  # keep | drop | rewrite
    category: str | None = None
    output: str = ""
    why: list[str] = field(default_factory=list)


def tidy(clause: str) -> str:
    """The tidy-up a fine clause gets: 你→您 (not 你们, not 迷你), particles 哦/恩/嗯 out, common
    typos corrected (配和 → 配合: the ``typo.*`` steps of ``replacements.yaml``)."""
    from rewrite.engines.rules import fix_typos

    out = fix_typos(_NI.sub("您", clause))
    new = _PARTICLE.sub("", out)
    if new != out:  # a particle went: no space or comma left dangling where it stood
        new = re.sub(r"^[\s，,]+", "", re.sub(r"(?<=\s)\s+|[，,]\s*(?=[，,。！？])", "", new))
    return new if new.strip() else ""


def _view(masked: str) -> str:
    """What the critic reads for a masked text: placeholders become a digit (facts never set the tone)."""
    return PLACEHOLDER_RE.sub("0", masked)


_LATIN_END = re.compile(r"(?:[A-Za-z0-9]|<(?:EN|URL|EMAIL|ID)\d+>)$")
_LATIN_START = re.compile(r"^(?:[A-Za-z0-9]|<(?:EN|URL|EMAIL|ID)\d+>|<NUM\d+>\.[0-9])")
_LATIN_ONLY = re.compile(r"(?:[A-Za-z0-9\s.-]|<(?:EN|NUM)\d+>)+")


def _spans(chunk: str) -> list[tuple[int, int]]:
    """The clauses of a masked chunk (:func:`clause_spans`), except that a space beside a Latin
    word stays a space, and so does one after a clause of Latin words and numbers alone (a masked
    5G; not a masked content word, 定制款): "PS5 手柄
    Drift 是您用的问题" is one clause, never "PS5，手柄，Drift，…", and "5G 信号不好" never "5G，信号不好".
    A masked model number counts as Latin ("型号是 TL-<ID1> 的话"), and so does a dotted address
    ("地址是 <NUM1>.1.1"); a masked amount or duration does not ("要<NUM1> 天天催也快不了" stays two)."""
    out: list[tuple[int, int]] = []
    for s, e in clause_spans(chunk):
        if out and chunk[out[-1][1]:s].strip(" ") == "" and \
                (_LATIN_END.search(chunk[out[-1][0]:out[-1][1]]) or _LATIN_START.search(chunk[s:e])
                 or _LATIN_ONLY.fullmatch(chunk[out[-1][0]:out[-1][1]])):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def clause_coverage(clause: str, candidate: str) -> float:
    """Share of ``clause``'s content characters that ``candidate`` keeps, short clauses included
    (来不了 → 暂时无法办理 keeps none of 来: the visit became a transaction; 来, 去, 说, 讲 count here).
    A negation (不, 没, 别) counts as kept when the candidate says no in any way (退不了 → 暂时无法办理退货);
    the words a rewrite is meant to lose (:data:`_OFFENCE_WORDS`) are not counted. 1.0 when the
    clause has no content character at all (喂)."""
    from rewrite.engines.seq2seq.backend import content_chars

    bare = _OFFENCE_WORDS.sub("", _view(clause))
    need = content_chars(bare) | {c for c in bare if c in "来去说讲"}
    if not need:
        return 1.0
    said_no = bool(_ANY_NEGATION.search(candidate))
    return sum(c in candidate or (said_no and _ANY_NEGATION.match(c) is not None) for c in need) / len(need)


def garbled(clause: str, candidate: str) -> bool:
    """Whether a generated rewrite repeats itself where the clause did not: a two-character
    sequence said more often than in the clause (建议您联系财经理财经理, 如果本人话不是本人,
    今天暂时无法安排今天取件), or a negation said twice over (暂时无法安排不了)."""
    han = re.sub(r"[^\u4e00-\u9fff]", "", candidate)
    grams: dict[str, int] = {}
    for k in range(len(han) - 1):
        grams[han[k:k + 2]] = grams.get(han[k:k + 2], 0) + 1
    if any(n > 1 and n > clause.count(g) for g, n in grams.items()):
        return True
    return "无法" in candidate and "不了" in candidate and clause.count("不了") < 2


#: The words a clause rewrite may bring in that the clause did not say: the service phrasing of
#: the norms (暂时无法为您办理, 麻烦您提供一下, 建议您联系, 请您稍等). Any other new content character is an
#: invented fact to the plan engine (退不了 → 暂时无法办理退货 when the fee was meant, 报 → 报销, 单子 → 合同).
SERVICE_WORDS = ("暂时无法为您办理 麻烦请您提供一下 建议您联系咨询 可以需要到 目前这边我们会尽快尽量处理 核实确认 相关情况 "
                 "稍等耐心等待 请问是否 谢谢理解 非常抱歉 了解清楚 方便 再次 已经 告诉 说明 帮助协助 安排 进行 及时")
_SERVICE_CHARS = frozenset(SERVICE_WORDS.replace(" ", ""))
#: A clause that asks or guesses (修好了吧, 到了吗): its rewrite must still ask, never assert.
_ASKS = re.compile(r"(?:了吧|吗|么|[?？])$")
_ASKED = re.compile(r"[吗?？]|是否")


def invents(clause: str, candidate: str) -> bool:
    """Whether a rewrite says something the clause did not: a content character that is neither in
    the clause nor a service word (:data:`SERVICE_WORDS`), an assertion where the clause asked
    (修好了吧 → 已经为您修好了), or a courtesy formula of its own (规定就这样 → 这是相关规定，感谢您的理解)."""
    from rewrite.engines.seq2seq.backend import content_chars

    new = content_chars(candidate) - set(_view(clause)) - _SERVICE_CHARS
    if new:
        return True
    from rewrite.norms.critic import FRAME_CLAUSE, clause_spans

    # The frame is the planner's to add, once: a clause rewrite that brings its own (…规定，感谢您的理解) doubles it.
    if not FRAME_CLAUSE.match(re.sub(r"[啊呀吧呢哦噢嘛啦哈]+$", "", _view(clause).strip("，,。！？ "))) and any(
            FRAME_CLAUSE.match(candidate[a:b]) for a, b in clause_spans(candidate)):
        return True
    return bool(_ASKS.search(re.sub(r"[\s啊呀呢哦]+$", "", _view(clause)))) and not _ASKED.search(candidate)


def clause_signature(planner: object, backend: object = None) -> str:
    """What a pipeline's plan engine rewrites clauses with, for eval signatures: ``gen:`` and the
    weights hash of a clause generator of its own (not ``backend``'s), else ``-``."""
    if planner is None:
        return "-"
    gen = getattr(planner, "_generator", None) or getattr(planner, "_generator_spec", None)
    if gen == "auto":  # not loaded yet: the clause generator it will load, if there is one
        from rewrite.engines.seq2seq.backend import clause_generator

        gen = clause_generator()
    # Looked up on the class: reading the property checks the model's files, and a clause model
    # whose files are broken must not stop the evaluation (the plan engine then repairs by rules).
    if gen is None or gen is backend or not hasattr(type(gen), "model_hash"):
        return "-"
    try:
        return f"gen:{gen.model_hash}"
    except Exception:  # a generator whose files cannot be read is named as such
        return "gen:?"


def _has_fact(clause: str) -> bool:
    return bool(PLACEHOLDER_RE.search(clause) or re.search(r"[0-9]", clause))


def _has_hard_fact(clause: str) -> bool:
    """A number, an amount, a date, an ID… (not a content word the masker protects: 爬<ENT1>又不会怎么样
    has 两层楼, which is no fact the reply owes the customer)."""
    return any(m.group(1) not in ("ENT", "EN") for m in PLACEHOLDER_RE.finditer(clause)) or \
        bool(re.search(r"[0-9]", PLACEHOLDER_RE.sub("", clause)))


def _droppable(clause: str, cat: str, *, unrepaired: bool = False) -> bool:
    """Whether an offending clause may simply go: pure blame, impatience or brush-off with no fact,
    short, with little content, and not a decision (来不了, 得您自己出钱). ``unrepaired``: nothing
    rewrote it acceptably, so the alternative is sending it as it is; then a longer blaming or
    impatient clause goes too (到时候别说没提醒您, 我们怎么知道要轻拿轻放), up to
    :data:`MAX_UNREPAIRED_DROP_CHARS`, still never one with a fact or a decision."""
    from rewrite.engines.seq2seq.backend import content_chars

    if (_has_hard_fact(clause) if unrepaired else _has_fact(clause)) or _OBLIGATION.search(clause):
        return False
    if cat == "curt":  # a brush-off goes (再等等吧, 调查完了再说); a terse report stays (人就走了)
        if not (_BRUSH_OFF.search(clause) or (unrepaired and _RHETORIC.search(clause))):
            return False
    elif cat not in DROP_CATEGORIES:
        return False
    if cat in DECISION_CATEGORIES and _NEGATION.search(clause.replace("是不是", "")) and not (unrepaired and _RHETORIC.search(clause)):
        return False
    if unrepaired:  # but never a clause that says why (是您自己跳闸了, 是手机设置的问题): it carries the diagnosis
        return len(clause) <= MAX_UNREPAIRED_DROP_CHARS and not _CAUSE.search(clause)
    return len(clause) <= MAX_DROP_CHARS and len(content_chars(clause)) <= MAX_DROP_CONTENT


#: Words of a clause that speak to the customer or of the agent (问我也白搭, 银行慢别找我们, 嫌贵可以不带):
#: such a clause is about the exchange, not the service.
#: The most content characters such a clause may carry (嫌贵去外面修 has 5), and an over-promise (我打包票 has 3).
MAX_STANCE_CONTENT, MAX_STANCE_CONTENT_PROMISE = 5, 3
_STANCE = re.compile(r"嫌|怪|白搭|没辙|没招|至于|懂[吗？?]?$|有啥用|有什么用|^要不|[找问赖怪跟冲]我|别找|关我|"
                     r"[我俺](?:也|又|能|哪|怎么)|(?:您|你)们?(?:自己|还|都|才|又|倒|可|是不是)|包在我身上|打包票|一百个心")
#: Telling the customer to stop contacting or pressing us (别一直打电话占线, 别刷屏, 别老揪着不放): the
#: same, with a little more content allowed (:data:`MAX_PESTER_CONTENT`).
_PESTER = re.compile(r"^别(?:再|老|一直|总|天天)?(?:跟我)?(?:吵|催|问|打电话|打来|刷屏|揪|闹|烦|嚷|喊)")
MAX_PESTER_CONTENT = 8


def _veneer_only(clause: str, cand: str) -> bool:
    """Whether ``cand`` differs from ``clause`` only by the polite veneer (请不要 for 别, 请您, 您 for 你)."""
    from rewrite.data.audit import clause_core

    return clause_core(_view(clause)) == clause_core(_view(cand))


def _stance_only(clause: str, cat: str, chunk: str) -> bool:
    """Whether ``clause``, an offending clause that nothing repaired, may go although
    :func:`_droppable` keeps it: it carries no fact, obligation or diagnosis (是您手机太老了), it
    speaks to the customer or of the agent (:data:`_STANCE`), and a negation in it is not the reply's
    only decision (嫌贵可以不带 beside 行李超重就得补钱 goes; 不赔偿 alone stays). A terse report with
    neither (人就走了) stays."""
    if _has_hard_fact(clause) or _OBLIGATION.search(clause) or _CAUSE.search(clause):
        return False
    if re.search(r"<ENT?\d+>", clause) and re.search(r"[打找去到问]|联系|咨询", clause):
        return False  # where to turn (您打<ENT1>那边) is the help the reply gives
    from rewrite.engines.seq2seq.backend import content_chars

    # Little content: a promise that carries one (明天肯定给您升舱) is hedged, never dropped; 我打包票 goes.
    pester = bool(_PESTER.search(_view(clause)))
    if cat == "command" and not pester:
        return False  # an instruction (您自己改下路由器) is rewritten as one, never dropped
    most = MAX_PESTER_CONTENT if pester else MAX_STANCE_CONTENT_PROMISE if cat == "overpromise" else MAX_STANCE_CONTENT
    words = 2 * len(re.findall(r"<ENT?\d+>", clause))  # a protected content word counts as two characters
    if len(content_chars(_view(clause))) + words > most or not (pester or _STANCE.search(_view(clause))):
        return False
    if _NEGATION.search(_STANCE.sub("", _view(clause))):  # (没招, 没辙 are the stance, not a decision)
        rest = chunk.replace(clause, "", 1)
        return bool(_OBLIGATION.search(rest) or _NEGATION.search(rest))
    return True


#: p(acceptable) below which the critic is sure a clause that nothing repaired still offends.
SURE_OFFENCE = 0.15
#: A negation that decides what the service does or what a case is (退不了, 不给退, 转不了, 不算故障):
#: the reply's answer, never dropped.
_DECIDES = re.compile(r"不能|无法|没法|不可以|(?:不|没)(?:给|予|再|直接|负责)?(?:退|赔|修|办|转|补|换|送|开|收|算|保|批|受理|处理|管|提供|支持|接|归)|"
                      r"[\u4e00-\u9fff]不[了成到回动掉]|不属于|不在|不是(?!我们|我|你|您|针对|坑|故意)[^，。！？]*(?:问题|故障|范围|责任)")
#: What the service does or offers (要么退了重买, 等不了就退吧): a clause that says it is the answer.
_SERVICE_VERB = re.compile(r"[退赔修换补]|办理|重买|重新")
#: A shrug (谁来都一样, 没有别的办法, 没人就白跑): a curt clause that only brushes off.
_SHRUG = re.compile(r"都一样|没(?:有)?(?:别的|其他)?办法|白跑|白搭|没用")
#: That the customer's own thing is not at fault (跟您手机没关系): judges read dropping it as a lost fact
#: (realstyle-0144), while 跟车没关系 or 跟平台没关系 only argues.
_UNRELATED = re.compile(r"(?:跟|和|与)(?:您|你)[^，。！？]{0,6}(?:没(?:有)?(?:任何)?关系|无关)")
#: Where to turn (物流慢找快递, 有问题去医保局问): the help the reply gives, never dropped.
_WHERE_TO_TURN = re.compile(r"找(?![我俺客])|联系|咨询|去[^，。！？]{1,6}问")
#: A number written in characters with its unit (开到三千公里): a fact like any other.
_WORD_NUMBER = re.compile(r"[一二两三四五六七八九十百千万半]+(?:公里|天|元|块|个|次|年|月|小时|分钟|号|点|周|斤|公斤|G)")


def _argues_only(clause: str, cat: str) -> bool:
    """Whether an offending clause that nothing repaired only argues (系统不会乱扣, 谁来都一样,
    跟车没关系, 还要怎么地, 没有别的办法; not 跟您手机没关系, which reassures the customer): no fact, no obligation, no cause, no instruction or promise, and
    no negation that decides what the service does (:data:`_DECIDES`), no place to turn to, and not
    a terse report (人就走了 carries the news; a curt clause goes only as a brush-off)."""
    v = _view(clause)
    if cat in ("command", "overpromise") or (cat == "curt" and not (_BRUSH_OFF.search(v) or _SHRUG.search(v))) \
            or _has_hard_fact(clause) or _OBLIGATION.search(clause) \
            or _SERVICE_VERB.search(v) or _WORD_NUMBER.search(v):
        return False
    return len(clause) <= MAX_UNREPAIRED_DROP_CHARS and not _CAUSE.search(v) and not _DECIDES.search(v) \
        and not re.search(r"<ENT?\d+>", clause) and not _WHERE_TO_TURN.search(v) and not _UNRELATED.search(v)


class PlanBackend:
    """The clause planner (``load_rewriter("plan")``); see the module docstring."""

    name = "plan"
    use_fallback = False
    wants_positions = True

    def __init__(self, prompts: str | None = None, generator: object = "auto", **_: object):
        """``generator``: a backend (or a registered name) that rewrites one offending clause;
        ``"auto"`` is the clause generator (:func:`~rewrite.engines.seq2seq.backend.clause_generator`)
        when its model is there, else the seq2seq model; ``None`` plans with the rules repairs
        alone. A generator that cannot load (no model) is left out and the rules repairs stand in."""
        from rewrite.engines.rules import RulesBackend

        self.rules = RulesBackend(prompts)
        self.prompts = prompts
        self.last_plans: list[list[ClausePlan]] = []
        self._generator_spec = generator
        self._generator: object | None = None
        self.generator_note = ""

    @property
    def generator(self):
        """The clause generator, loaded on first use (``None`` when absent or not loadable)."""
        if self._generator is None and self._generator_spec is not None:
            spec, self._generator_spec = self._generator_spec, None
            if isinstance(spec, str):
                from rewrite.engines import get_backend
                from rewrite.engines.seq2seq.backend import clause_generator
                from rewrite.errors import RewriteError

                try:
                    if spec == "auto":
                        spec = clause_generator() or "seq2seq"
                    if isinstance(spec, str):
                        spec = get_backend(spec)
                    if hasattr(spec, "load"):
                        spec.load()
                except (RewriteError, OSError) as e:
                    self.generator_note = f"分句生成模型不可用（{e}），改用规则修复。"
                    spec = None
            self._generator = spec
        return self._generator

    def load(self) -> None:
        _ = self.generator

    # -- judging ------------------------------------------------------------------------------
    def _judge(self, chunk: str, spans: Sequence[tuple[int, int]], channel: str) -> list[tuple[str | None, list[str]]]:
        """Per clause: the category that offends (``None`` when fine) and why."""
        from rewrite.norms.checker import find
        from rewrite.norms.critic import LABELS, load_critic

        model = load_critic()
        probs = self._probs(chunk, spans)
        out: list[tuple[str | None, list[str]]] = []
        for k, (s, e) in enumerate(spans):
            clause = chunk[s:e]
            why: list[str] = []
            cat = None
            if probs is not None and float(probs[k][0]) < model.threshold:  # type: ignore[union-attr]
                cat = LABELS[int(probs[k][1:].argmax()) + 1]
                why.append(f"语气：{cat}")
            rules = [f for f in find(_view(clause), channel=channel) if f.severity in OFFENDING_SEVERITIES
                     and f.rule_id != "address.ni"]
            if rules:
                why += [f"规则：{f.rule_id}" for f in rules]
                cat = cat or _rule_category(rules[0].rule_id)
            out.append((cat, why))
        return out

    # -- one clause -----------------------------------------------------------------------------
    def _repair(self, clause: str, cat: str, chunk: str, channel: str, alone: bool = False, company: bool = True) -> str:
        """The rules rewrite of one clause (no frame); when that still offends (re-judged in the
        reply's context), the category's repair: 请您 before a command. Regret for a refusal comes
        once, from the frame."""
        cand = self._rules_clause(clause, channel)
        if _STOCK_OFFER in cand:  # the rules' line for a reply that was all brush-off: no clause repair
            cand = ""
        if not cand:  # the rules delete it (搞清楚哦, 别催): it goes unless it carries a fact or a duty,
            # or it is all the reply says
            deletable = not alone and not (_has_fact(clause) or _OBLIGATION.search(clause))
            return "" if _droppable(clause, cat) or deletable else tidy(clause)
        still = self._judge(chunk.replace(clause, cand, 1), [(chunk.find(clause), chunk.find(clause) + len(cand))], channel)[0][0] \
            if cand and clause in chunk else cat
        # Only a veneer (别一直打电话占线 → 请不要一直打电话占线) repairs nothing: judges still hear the clause.
        veneer = _veneer_only(clause, cand)
        if cand != tidy(clause) and still is None and not (
                veneer and not alone and (_stance_only(clause, cat, chunk) or _droppable(clause, cat, unrepaired=True))):
            return cand
        if not alone and _droppable(clause, cat, unrepaired=True):
            return ""  # nothing repairs it and it carries no fact: it goes, the frame speaks for it
        bare = re.sub(r"^(?:您|你)(?:先|就)?", "", cand)
        own = re.match(r"^(?:自己|自行)", bare)  # 自己换个: a suggestion, not an order (请您自己换个 reads as one)
        bare = bare[own.end():] if own else bare
        if cat == "command" and own and not alone and re.fullmatch(r"[\u4e00-\u9fff]{1,2}[吧呗]", bare):
            return ""  # 自己吃吧: a brush-off with nothing to do in it
        if cat == "command" and not cand.startswith(("请", "麻烦", "建议")) and "可以" not in cand \
                and bare and bare[0] not in _NOT_A_VERB and not bare.startswith(("别的", "别人", "别家")):
            cand = ("您可以自行" if own else "请您") + bare
        if not alone and _stance_only(clause, cat, chunk) and clause in chunk:
            at = chunk.find(clause)
            if veneer or self._judge(chunk[:at] + cand + chunk[at + len(clause):], [(at, at + len(cand))], channel)[0][0] is not None:
                return ""  # still offends and says only how the agent feels about the customer: it goes
        if company and not alone and _argues_only(clause, cat) and clause in chunk:
            at = chunk.find(clause)
            if self._p_ok(chunk[:at] + cand + chunk[at + len(clause):], (at, at + len(cand))) < SURE_OFFENCE:
                return ""  # the critic is sure it still offends, and it decides and says nothing: it goes
        return cand

    @staticmethod
    def _probs(chunk: str, spans: Sequence[tuple[int, int]]):
        """The critic's probabilities for each clause of ``chunk``, read in the reply without its
        courtesy formulas (:func:`rewrite.norms.critic.contexts`); ``None`` without a critic."""
        from rewrite.norms.critic import contexts, load_critic

        model = load_critic()
        if not (model and spans):
            return None
        return model.probs([(_view(chunk[s:e]), _view(c)) for (s, e), c in zip(spans, contexts(chunk, spans))])

    def _p_ok(self, chunk: str, span: tuple[int, int]) -> float:
        """The critic's p(acceptable) for one clause of ``chunk`` in its context (1.0 without a critic)."""
        probs = self._probs(chunk, [span])
        return 1.0 if probs is None else float(probs[0][0])

    def _rules_clause(self, clause: str, channel: str) -> str:
        """The rules rewrite of ``clause`` alone: no frame, no full stop, tidied."""
        return tidy(re.sub(r"[。．.]$", "", self.rules.rewrite_chunk(clause, channel=channel, starts=False, ends=False).strip()))

    def _rules_fix(self, clause: str, chunk: str, channel: str) -> str | None:
        """:meth:`_rules_clause` when it changes the clause and the critic (in the reply's context)
        and the rules accept it; else ``None``."""
        cand = self._rules_clause(clause, channel)
        at = chunk.find(clause)
        if not cand or _STOCK_OFFER in cand or cand == tidy(clause) or at < 0:
            return None
        ok = self._judge(chunk[:at] + cand + chunk[at + len(clause):], [(at, at + len(cand))], channel)[0][0] is None
        return cand if ok else None

    def _generate(self, clause: str, chunk: str, channel: str) -> str | None:
        """The generator's first candidate for ``clause`` that keeps its placeholders, its negation
        and its content, repeats and invents nothing, and that the critic (in the reply's context)
        and the rules accept; ``None`` when there is none."""
        gen = self.generator
        if gen is None or clause not in chunk:
            return None
        try:
            cands = gen.generate([clause], n=4, channel=channel)[0]
        except Exception:  # a generator failure never fails the reply: the rules repair stands in
            return None
        from rewrite.engines.seq2seq.backend import content_coverage

        strict = bool(getattr(gen, "clause_model", False))
        want = sorted(PLACEHOLDER_RE.findall(clause))
        at = chunk.find(clause)
        for c in cands:
            c = tidy(re.sub(r"[。．.，,]+$", "", c.strip()))
            if not c or c == tidy(clause) or sorted(PLACEHOLDER_RE.findall(c)) != want:
                continue
            # The decision stays: a clause that refuses or denies (兑不了, 不给退) keeps a negation,
            # and the clause's content words stay (a candidate that snapped to a stock phrase goes).
            if _NEGATION.search(clause) and not _NEGATION.search(c):
                continue
            if content_coverage(_view(clause), _view(c)) < MIN_CLAUSE_COVERAGE:
                continue
            # A greeting, a sign-off or the offer of help in place of a clause inside a reply (现在来问？
            # → 您好，我在的，请问现在为您遇到了什么问题？; 别再问了 → 请问还有其他需要帮助的吗？…再见) reads absurd.
            if _CONVERSATION_FORMULA.search(c) and not _CONVERSATION_FORMULA.search(clause):
                continue
            if strict and (clause_coverage(clause, _view(c)) < MIN_CLAUSE_GEN_COVERAGE or garbled(clause, c)
                           or invents(clause, _view(c))):
                continue
            if self._judge(chunk[:at] + c + chunk[at + len(clause):], [(at, at + len(c))], channel)[0][0] is None:
                return c
        return None

    def plan_chunk(self, chunk: str, *, channel: str = "phone", starts: bool = True, ends: bool = True) -> tuple[str, list[ClausePlan]]:
        """The planned rewrite of one masked chunk and the per-clause plan."""
        from rewrite.engines.seq2seq.backend import content_chars

        spans = _spans(chunk)
        if not spans:
            return chunk, []
        verdicts = self._judge(chunk, spans, channel)
        plans: list[ClausePlan] = []
        for (s, e), (cat, why) in zip(spans, verdicts):
            clause = chunk[s:e]
            if cat is None:
                plans.append(ClausePlan(clause, "keep", None, tidy(clause), why))
                continue
            gen = self._generate(clause, chunk, channel)  # the generator first: a rewrite keeps content
            if gen is not None:
                plans.append(ClausePlan(clause, "rewrite", cat, gen, why + ["生成模型改写"]))
            elif _droppable(clause, cat):
                # A brush-off often carries the next step (等通知吧, 再等等吧, 调查完了再说): where a rules
                # family says it politely, that is kept; dropping it was judged a changed fact.
                kept = self._rules_fix(clause, chunk, channel) if cat == "curt" else None
                plans.append(ClausePlan(clause, "rewrite", cat, kept, why + ["规则改写"]) if kept
                             else ClausePlan(clause, "drop", cat, "", why))
            else:
                # A clause is "alone" when no other clause of the reply says anything: it is never dropped.
                # (A placeholder is content: 没有<ENT1>了 says something.)
                alone = not any(len(content_chars(chunk[s2:e2])) + len(PLACEHOLDER_RE.findall(chunk[s2:e2])) >= 2
                                for s2, e2 in spans if (s2, e2) != (s, e))
                # Another clause that stays and says something (a fact, a decision, a next step): only then
                # may a clause that only argues go (系统不可能出错的 beside 您是不是点错了 left 亲。).
                company = any((c2 is None or not (_argues_only(chunk[s2:e2], c2) or _droppable(chunk[s2:e2], c2))) and len(_HAN.findall(_view(chunk[s2:e2]))) >= 4
                              for (s2, e2), (c2, _w) in zip(spans, verdicts) if (s2, e2) != (s, e))
                repaired = self._repair(clause, cat, chunk, channel, alone, company)
                plans.append(ClausePlan(clause, "rewrite" if repaired else "drop", cat, repaired,
                                        why + ([] if repaired else ["无法改写，且不含事实：删去"])))
        offended = [p for p in plans if p.action != "keep"]
        if not offended:
            # Nothing offends: the draft as it was, tidied, separators and spacing untouched.
            out, pos = [], 0
            for (s, e), p in zip(spans, plans):
                out.append(chunk[pos:s])
                out.append(p.output)
                pos = e
            out.append(chunk[pos:])
            text = "".join(out)
            text = re.sub(r"^[\s，,]+", "", re.sub(r"[，,]\s*(?=[。！？!?~～]|$)", "", text)) if text != chunk else text
            return text, plans
        # Something offends: rebuild the reply as clauses joined by commas.
        pieces = [p.output for p in plans if p.action != "drop" and p.output]
        text = ""
        last = None
        for (s, e), p in zip(spans, plans):
            if p.action == "drop" or not p.output or p.output == last:  # 喂 你好 → 您好 once, not 您好，您好
                continue
            if text and not text.endswith(("？", "！", "。", "?", "!", "~", "～")):  # never "？，"
                sep = chunk[prev_end:s]
                mark = next((c for c in sep if c in "，。！？；：,.!?;:~～"), "")
                text += {"。": "，", ".": "，", ",": "，", "!": "！", "?": "？", ";": "；", ":": "："}.get(mark, mark) or "，"
            text += p.output
            last = p.output
            prev_end = e
        text, signature = split_signature(text)  # a Weibo signature stays last: …。感谢您的理解。小编
        cats = {p.category for p in offended}
        # Only dropped clauses, and what is left is a notice (物业费逾期未交的，物业将按规定催缴 once
        # 别说没提醒过 is gone): a neutral answer, no apology (judged the wrong frame).
        from rewrite.engines.rules import detect_scenario

        notice = all(p.action == "drop" for p in offended) and \
            getattr(detect_scenario(_view(text)), "id", None) in NEUTRAL_SCENARIOS
        # A dropped clause earns no apology before good news: 挂失已经办好了 after a dropped 不用再问了
        # is good news, and good news gets none.
        said = {p.category for p in offended if p.action != "drop"}
        # Nor does a curt or impatient clause that was rewritten, beside good news (办好了 … 您可以打电话解挂).
        good = bool(_GOOD_NEWS.search(text))
        sorry = bool(said & (APOLOGY_CATEGORIES - ({"curt", "impatience", "rhetorical"} if good else set()))) or \
            bool(cats & APOLOGY_CATEGORIES and not good)
        if starts and notice and not _APOLOGY.search(text) and not _GREETING.match(text):
            text = "您好，" + text
        elif starts and sorry and not _APOLOGY.search(text):
            greet = _GREETING.match(text)  # 您好，非常抱歉，… (never 非常抱歉，您好，…)
            text = (text[: greet.end()] + "非常抱歉，" + text[greet.end():]) if greet else \
                (("非常抱歉，" + text) if text else "非常抱歉")
        # Contradicting the customer gets no offer of its own: judges read both 我再帮您核实一下 and
        # 如有疑问，我可以为您再次核对 after a firm answer as invented (28 of the 36 judged replies that
        # carried the latter were rejected). The clause that argued is rewritten or dropped, and the
        # fact stands as it is.
        if not pieces and not text:
            text = "请问还有什么可以帮您"
        text = text.rstrip("，,")
        if not _END.search(text):
            text += "。"
        # Thanks for the understanding once: not after a clause that already asks for it (这是相关规定，感谢您的理解).
        if ends and cats & {"refuse", "deflect"} and not _CLOSED.search(text) and not re.search(r"理解|谅解", text):
            text += "感谢您的理解。"
        return text + signature, plans

    # -- the Backend protocol ---------------------------------------------------------------------
    def generate(self, chunks: Sequence[str], *, n: int = 1, channel: str = "phone",
                 positions: Sequence[tuple[bool, bool]] | None = None) -> list[list[str]]:
        pos = list(positions) if positions is not None else [(True, True)] * len(chunks)
        out, self.last_plans = [], []
        for c, (s, e) in zip(chunks, pos):
            text, plans = self.plan_chunk(c, channel=channel, starts=s, ends=e)
            self.last_plans.append(plans)
            out.append([text])
        return out


#: Phrasebook scenarios that say what is needed or what happens after a date: a bare reply that
#: is one gets their frame (``prefix``/``suffix``), not the bad-news frame.
NOTICE_SCENARIOS = ("explain_policy", "service_suspension")
#: Scenarios of a neutral answer: a reply that is one earns no apology (a notice, a payment due).
NEUTRAL_SCENARIOS = (*NOTICE_SCENARIOS, "payment_due")

_NON_LATIN_SLOT = r"<(?:AMT|NUM|DATE|TIME|PHONE|ID|ENT)\d+>"
_GAP_LEFT = re.compile(r"(?:[\u4e00-\u9fff0-9%]|" + _NON_LATIN_SLOT + r")$")
_GAP_RIGHT = re.compile(r"^(?:[\u4e00-\u9fff]|" + _NON_LATIN_SLOT + r")")
#: A reply this short (in Chinese characters) is no bare answer (好的, 在吗). From 4 on it is one:
#: blind judges found 挂号费已退 and 电已恢复, sent as typed, too curt (fresh3 probe).
MIN_BARE_HAN = 4
#: A reply that only acknowledges (好的 收到) is not a bare answer either.
_ACK_ONLY = re.compile(r"^(?:(?:好的?|收到|明白了?|知道了|嗯+|行|OK|ok)[\s，,。！!~～]*)+$")


def is_bare(text: str) -> bool:
    """Whether a draft is typed as bare clauses with no courtesy at all (``bare_reply`` in the
    phrasebook): none of its courtesy words (你 does not count), at least :data:`MIN_BARE_HAN`
    Chinese characters, and unpolished: clauses split by spaces or no closing punctuation. A
    finished reply without courtesy words (an FAQ answer ending in 。) is not bare."""
    from rewrite.norms.load import load_phrasebook
    from rewrite.text import is_word_segmented

    bare = load_phrasebook().bare
    if bare is None or re.search(bare.courtesy, text) or len(_HAN.findall(text)) < MIN_BARE_HAN or _ACK_ONLY.match(text.strip()):
        return False
    if is_word_segmented(text):  # a segmented transcript keeps its shape
        return False
    body = text.strip()
    return bool(re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", body)) or not re.search(r"[。！？!?~～…]$", body)


def has_courtesy(text: str) -> bool:
    """Whether ``text`` carries a courtesy word of ``bare_reply`` beyond a bare 您."""
    from rewrite.norms.load import load_phrasebook

    bare = load_phrasebook().bare
    return bare is None or bool(re.search(bare.courtesy, text.replace("您", "")))


def frame_bare(masked: str, *, channel: str = "phone", starts: bool = True, ends: bool = True) -> str:
    """The bare reply ``masked`` (facts as placeholders) with the frame the norms ask for: every
    word kept (你→您, the particle tidy-up), spaces between Chinese clauses made commas (never beside
    a Latin word, a URL or an e-mail), a full stop at the end; regret before bad news (after an
    echoed question) or a greeting, and a close: thanks for the understanding after bad news, an
    offer of more help otherwise. ``starts``/``ends``: the chunk opens/closes the reply."""
    from rewrite.norms.load import load_phrasebook

    bare = load_phrasebook().bare
    if bare is None:
        return tidy(masked) or masked
    out, pos = [], 0
    for m in re.finditer(r"[ \t\u3000]+", masked):
        out.append(masked[pos:m.start()])
        left, right = masked[:m.start()], masked[m.end():]
        # A number or code that opens the reply is its subject (5G 信号, MU5101 延误): its space stays.
        gap = _GAP_LEFT.search(left) and _GAP_RIGHT.search(right) and not re.fullmatch(r"<(?:NUM|ID)\d+>", left)
        out.append("，" if gap else m.group(0))
        pos = m.end()
    out.append(masked[pos:])
    text = "".join(out)
    text = re.sub(r"(?<=[\u4e00-\u9fff>])\?|\?(?=[\u4e00-\u9fff<])", "？", text)
    text = re.sub(r"(?<=[\u4e00-\u9fff]),|,(?=[\u4e00-\u9fff])", "，", text)
    text = tidy(text) or text
    # The spaces a mid-reply chunk starts or ends with join it to its neighbours (iPhone | 15 Pro).
    lead = "" if starts else text[: len(text) - len(text.lstrip())]
    trail = "" if ends else text[len(text.rstrip()):]
    text, signature = split_signature(text.strip())  # a Weibo signature stays last: …。请问还有什么可以帮您？小沃
    bad = bool(re.search(bare.bad_news, _view(text)))
    from rewrite.engines.rules import detect_scenario

    # A requirement or a reminder (要原件 复印件不行, 下周三到期 不续就停了) is a neutral answer, not bad news:
    # the phrasebook's notice frame, never 非常抱歉…感谢您的理解.
    notice = detect_scenario(_view(text))
    notice = notice if notice is not None and notice.id in NOTICE_SCENARIOS else None
    bad = bad and notice is None
    greet = _GREETING.match(text)
    if starts:
        if any(re.search(p, text) for p in bare.skip_opening_if):
            pass
        elif greet:  # 您好，… / [姓名x]您好，…: no second greeting; regret goes after it
            if bad and not _APOLOGY.search(text):
                text = text[: greet.end()] + bare.apology + text[greet.end():]
        elif bad:
            echo = re.match(r"^[^，。！？]*？", text)  # 会议室改到下周一？ — the customer's question first
            text = (text[: echo.end()] + bare.apology + text[echo.end():]) if echo and echo.end() < len(text) \
                else bare.apology + text
        elif notice is not None and notice.prefix and not any(re.search(p, text) for p in notice.skip_prefix_if):
            text = notice.prefix + text
        else:
            text = bare.opening + text
    if ends and not _END.search(text):  # mid-reply a chunk may end inside a sentence (iPhone | 15 Pro)
        text += "。"
    if ends and not text.endswith(("？", "?")):
        asks = bool(bare.asks and re.search(bare.asks, _view(text)))
        close = bare.close_asks if asks else bare.close_bad_news if bad else \
            notice.suffix.get(channel, "") if notice is not None else bare.close_news
        if close and close not in text:
            text += close
    return lead + text + signature + trail


def _rule_category(rule_id: str) -> str:
    """The critic category nearest to a rule's family (for the repair and the frame)."""
    head = rule_id.split(".", 1)[0]
    return {"refusal": "refuse", "promise": "overpromise", "tone": "command", "forbidden": "slang",
            "address": "slang", "particle": "slang", "rhetorical": "rhetorical", "impatience": "impatience",
            "blame": "blame", "deflect": "deflect"}.get(head, "curt")
