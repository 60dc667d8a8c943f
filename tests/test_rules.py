"""The rules backend (``load_rewriter("rules")``): placeholders and facts pass through, the seeds'
casual examples lose at least two thirds of their findings, output is deterministic, and the
phrasebook it frames with is valid."""
from __future__ import annotations

import glob
import json

import pytest

from conftest import REPO, load_checker_cases
from rewrite import check, load_rewriter
from rewrite.engines.rules import RulesBackend, detect_scenario
from rewrite.errors import NormsError
from rewrite.norms.load import load_phrasebook, load_replacements
from rewrite.protect import find_facts, placeholder_problems, protect_for_model, restore

SEED_CASUAL = [c for c in load_checker_cases() if c["kind"] in ("seed_forbidden", "seed_habitual")]


@pytest.fixture(scope="module")
def rules():
    return load_rewriter("rules")


def test_result_shape(rules):
    r = rules.rewrite("这个我不知道，你去营业厅问吧")
    assert r.backend == "rules" and r.source == "这个我不知道，你去营业厅问吧"
    assert r.target != r.source and r.edits and r.findings_before and not r.findings_after
    assert r.ms >= 0 and r.fallback is False
    assert "您" in r.target and "你" not in r.target and "营业厅" in r.target


def test_seed_casual_findings_drop_to_a_third(rules):
    before = after = 0
    for c in SEED_CASUAL:
        r = rules.rewrite(c["text"], channel=c.get("channel", "phone"))
        before += len(r.findings_before)
        after += len(r.findings_after)
    print(f"\nseed casual examples: n={len(SEED_CASUAL)} findings before={before} after={after} ratio={after / before:.3f}")
    assert before >= 100
    assert after * 3 <= before


def test_written_drafts_findings_drop(rules):
    rows = []
    for path in sorted(glob.glob(str(REPO / "rewrite/data/written/*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if r["draft"] != r["reference"]][:300]
    if len(rows) < 50:
        pytest.skip("the written pairs are not there yet")
    res = rules.rewrite_batch([r["draft"] for r in rows], keep=[r.get("keep", []) for r in rows])
    before = sum(len(x.findings_before) for x in res)
    after = sum(len(x.findings_after) for x in res)
    assert after * 3 <= before, (before, after)
    for r, x in zip(rows, res):
        for span in r.get("keep", []):
            assert span in x.target, (span, r["draft"], x.target)


@pytest.mark.parametrize(
    "masked",
    [
        "<ENT1>怎么啦，拨打<PHONE1>。",
        "你把<ID1>给我！",
        "喂 <AMT1>不能便宜了啊",
        "难道<ENT1>你不知道？<DATE1>就结束了",
        "<ENT1>的事不归我管 你去<ENT2>问吧",
        "你的意思不是说<ENT1>要退订吗？<AMT1>",
        "什么？<NUM1>",
        "<ENT1><ENT2>不行<ENT3>",
        "保证<DATE1>到 一定给您修好<ENT1>",
        "别再打<PHONE1>这个号码了！",
    ],
)
def test_placeholders_pass_through(masked):
    out = RulesBackend().generate([masked], n=4, channel="phone")
    assert len(out) == 1 and len(out[0]) == 1
    slots = {m: m for m in set(__import__("re").findall(r"<[A-Z]+\d+>", masked))}
    assert placeholder_problems(out[0][0], slots) == [], out[0][0]


@pytest.mark.parametrize(
    "draft",
    [
        "你的订单20240517886明天到，运费12元你自己出",
        "喂 你那个号13905718826欠了43块 再不交3月5日停机",
        "不行 退款只能退到原卡 7个工作日",
        "保证今天下午3点前给你修好",
        "亲 这款羽绒服XL码没货了 下周三到 要等吗",
    ],
)
def test_facts_are_kept(rules, draft):
    r = rules.rewrite(draft, channel="chat")
    for s, e, _kind in find_facts(draft):
        assert draft[s:e] in r.target, (draft[s:e], r.target)


def test_keep_spans_survive(rules):
    r = rules.rewrite("你去翠湖苑物业问吧 我不知道", keep=["翠湖苑物业"])
    assert "翠湖苑物业" in r.target and not r.findings_after


def test_deterministic(rules):
    drafts = [c["text"] for c in SEED_CASUAL[:20]]
    a = [x.target for x in rules.rewrite_batch(drafts)]
    b = [x.target for x in rules.rewrite_batch(drafts)]
    c = [rules.rewrite(d).target for d in drafts]
    assert a == b == c
    assert RulesBackend().generate(["你好啊"], n=1, channel="chat") == RulesBackend().generate(["你好啊"], n=3, channel="chat")


def test_clean_reply_is_left_alone(rules):
    text = "您好，请问有什么可以帮您？"
    assert rules.rewrite(text).target == text


def test_channel_frames(rules):
    phone = rules.rewrite("亲 我给你查一下", channel="phone").target
    chat = rules.rewrite("亲 我给你查一下", channel="chat").target
    assert not phone.startswith("亲") and "挂机" in phone
    assert chat.startswith("亲") and "挂机" not in chat
    assert not check(phone, channel="phone").findings and not check(chat, channel="chat").findings


@pytest.mark.parametrize(
    "draft, scenario",
    [
        ("打错了 这是电信 不是银行", "misdial"),
        ("你听不见吗？", "cannot_hear"),
        ("这个不行", "refuse_alternative"),
        ("差评就差评", "complaint_received"),
        ("她不在，下班了。", "colleague_absent"),
        ("您好，请问有什么可以帮您？", None),
    ],
)
def test_scenario_detection(draft, scenario):
    sc = detect_scenario(draft)
    assert (sc.id if sc else None) == scenario


def test_no_output_is_empty(rules):
    for draft in ("你别再问了！", "下一位！", "呵呵", "哦"):
        r = rules.rewrite(draft)
        assert r.target.strip() and not r.findings_after, (draft, r.target)


def test_phrasebook_is_valid_and_clean():
    from rewrite.data.spec import DOMAINS, TRAIN_SCENARIOS

    pb = load_phrasebook()
    assert len(pb.scenarios) >= 25
    for sc in pb.scenarios:
        assert sc.id in TRAIN_SCENARIOS, sc.id
        for p in sc.phrases:
            assert p.source and set(p.channels) <= {"phone", "chat"}
            assert not p.domain or p.domain in DOMAINS, p.domain
            assert not check(p.text).findings, p.text
        frames = [sc.prefix, *sc.suffix.values()]
        assert not any(check(f).findings for f in frames if f), sc.id
    for step in load_replacements().steps:
        assert step.source, step.id


def test_edited_replacement_takes_effect(prompts_copy):
    path = prompts_copy / "replacements.yaml"
    text = path.read_text(encoding="utf-8").replace("replace: '暂时无法办理', source: '001_d9de: 第2篇 “不行”", "replace: '无法受理', source: '001_d9de: 第2篇 “不行”", 1)
    path.write_text(text, encoding="utf-8")
    assert "无法受理" in load_rewriter("rules").rewrite("这个不行").target


@pytest.mark.parametrize("old, new, step, word", [
    ("replace: '建议您到\\g<x>咨询'", "replace: '建议您到\\g<y>咨询'", "cmd.go_ask", "replace"),  # a bad group
    ("{id: cmd.when_then, after: true,", "{id: cmd.when_then, after: yes please,", "cmd.when_then", "after"),
])
def test_malformed_replacements_raise_a_clear_error(prompts_copy, old, new, step, word):
    path = prompts_copy / "replacements.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(NormsError) as e:
        load_rewriter("rules").rewrite("你去营业厅问吧")
    assert "replacements.yaml" in str(e.value) and step in str(e.value) and word in str(e.value)


def test_masked_chunks_from_the_pipeline_round_trip():
    p = protect_for_model("你的订单20240517886明天到，运费12元你自己出")
    out = RulesBackend().generate([p.masked], n=1, channel="chat")[0][0]
    assert placeholder_problems(out, p.slots) == []


POLISHED = [
    "对不起，您的声音很小，请问您是否使用免提方式？请您拿起话筒说话好吗？",
    "对不起，他不在，有什么事情需要我转告他吗？",
    "非常抱歉，师傅今天未能按约定时间上门，耽误了您的时间。我已为您重新预约明天上午9点到11点，请问这个时间您方便吗？",
    "您好，您的机顶盒已成功办理报停，报停期间不收取收视费，如需恢复请随时联系我们。",
]


@pytest.mark.parametrize("text", POLISHED)
@pytest.mark.parametrize("channel", ["phone", "chat"])
def test_polished_reply_comes_back_unchanged(rules, text, channel):
    assert not check(text, channel=channel).findings
    assert rules.rewrite(text, channel=channel).target == text


def test_bench_self_mapping_items_are_left_alone(rules):
    rows = []
    for name in ("seed", "heldout"):
        path = REPO / "eval" / "bench" / f"{name}.jsonl"
        if path.exists():
            with open(path, encoding="utf-8") as f:
                rows += [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if r["draft"] == r["reference"] and not check(r["draft"], channel=r["channel"]).findings]
    if len(rows) < 10:
        pytest.skip("the benches are not there yet")
    changed = [
        (r["draft"], out.target)
        for r in rows
        if (out := rules.rewrite(r["draft"], channel=r["channel"], keep=r.get("keep", []))).target != r["draft"]
    ]
    assert not changed, changed


def test_polished_but_half_width_punctuation_is_only_tidied(rules):
    # The rules backend itself tidies the punctuation of a polished reply ...
    assert rules.backend.generate(["好的,我现在帮您催一下?"], channel="phone")[0][0] == "好的，我现在帮您催一下？"
    # ... and through the pipeline a reply in which nothing offends comes back as typed (do no harm)
    assert rules.rewrite("好的,我现在帮您催一下?").target == "好的,我现在帮您催一下?"


def test_speak_only_as_a_whole_clause(rules):
    assert "您好，请讲" in rules.rewrite("喂 说话啊？").target
    out = rules.rewrite("你拿起话筒说话好吗").target
    assert "说话" in out and "请讲" not in out, out


def test_blame_is_softened(rules):
    out = rules.rewrite("KIS月卡续订要等三天,页面上都写着,你自己没看。").target
    assert "你" not in out and "自己" not in out and "没看" not in out, out
    assert "解释清楚" in out and "KIS" in out and "三天" in out, out
    out = rules.rewrite("运费险是你自己没勾吧").target
    assert "你自己" not in out and "您自己" not in out and "运费险" in out, out


def test_number_before_haoma_is_kept(rules):
    draft = "你打114号码问一下好了。"
    for keep in ([], ["114"]):
        out = rules.rewrite(draft, keep=keep).target
        assert "114" in out and "咨询" in out, out
        for s, e, _ in find_facts(draft):
            assert draft[s:e] in out, (draft[s:e], out)


@pytest.mark.parametrize(
    "draft, gone",
    [
        ("俺们这木有这个套餐 你问啥", ["俺", "木有", "啥"]),
        ("这咋整 咋回事", ["咋"]),
        ("你等一下 我给你查查", ["你等一下", "您等一下"]),
        ("行 就这样 挂了啊", ["挂了", "行"]),
        ("你骂人我就挂了啊 单号报一下", ["骂人", "挂了"]),
        ("这款理财稳赚不赔 收益肯定4%以上", ["稳赚", "肯定", "无法赔"]),
    ],
)
def test_colloquial_and_brush_off_phrases_go(rules, draft, gone):
    r = rules.rewrite(draft)
    for w in gone:
        assert w not in r.target, (w, r.target)
    assert not r.findings_after, r.target
    for s, e, _ in find_facts(draft):
        assert draft[s:e] in r.target


def test_frames_are_idempotent(rules):
    once = rules.rewrite("你等一下 我给你查一下").target
    assert once.count("稍等") == 1 and once.count("挂机") <= 1, once
    again = rules.rewrite(once).target
    assert again == once
    sc = detect_scenario("不行")
    text = sc.prefix + "这个暂时无法办理"
    out = RulesBackend().generate([text], n=1, channel="phone")[0][0]
    assert out.count(sc.prefix.rstrip("，")) == 1, out


def test_long_draft_gets_one_opening_and_one_close(rules):
    from rewrite.text import chunk_text

    sentence = "我给你查一下这个订单的物流信息，快递那边说昨天已经发出了但是一直没有更新，可能是中转站积压了比较多的件所以扫描晚了一点。"
    draft = sentence * 3
    assert len(chunk_text(draft)) >= 2
    out = rules.rewrite(draft).target
    assert out.count("请您稍等") == 1 and out.startswith("请您稍等"), out
    assert out.count("请不要挂机") == 1 and out.endswith("请不要挂机，谢谢！"), out
    assert out.count("物流信息") == 3
    # a chunk that neither starts nor ends its reply gets no frame at all
    mid = RulesBackend().generate([sentence], n=1, channel="phone", positions=[(False, False)])[0][0]
    assert "稍等" not in mid and "挂机" not in mid, mid


def test_pipeline_passes_positions_only_to_backends_that_ask():
    from rewrite.pipeline import Rewriter

    class Plain:
        name = "plain"
        use_fallback = False

        def __init__(self):
            self.calls = []

        def generate(self, chunks, *, n, channel):  # no ``positions`` keyword: must still work
            self.calls.append(list(chunks))
            return [[c] for c in chunks]

    class Asks(Plain):
        wants_positions = True

        def generate(self, chunks, *, n, channel, positions):
            self.calls.append(list(positions))
            return [[c] for c in chunks]

    sentence = "您好，我为您查询一下这个订单的物流信息，快递那边显示昨天已经发出，目前正在运输途中，请您耐心等待。"
    draft = sentence * 3
    plain, asks = Plain(), Asks()
    # guard_fine=False: these fine drafts must reach the backend, whose calls are what is tested
    assert Rewriter(plain, guard_fine=False).rewrite(draft).target == draft
    assert Rewriter(asks, guard_fine=False).rewrite_batch([draft, "好的。"])[0].target == draft
    pos = asks.calls[0]
    assert len(pos) >= 3 and pos[0] == (True, False) and pos[-2] == (False, True) and pos[-1] == (True, True)
    assert all(p == (False, False) for p in pos[1:-2])


def test_phone_close_never_glues_onto_a_masked_ending():
    """A body that ends in a masked word (轨迹 -> <ENT1> inside the pipeline) still gets its end
    mark before the phone close (was: 我看下轨迹请不要挂机，谢谢！)."""
    from rewrite import load_rewriter

    out = load_rewriter("rules").rewrite("等着 我看下轨迹", channel="phone").target
    assert "轨迹。请不要挂机" in out or "请不要挂机" not in out, out
    assert "轨迹请" not in out
    # An anonymised token ([订单x]) is no emoticon code ([微笑]): the close gets its full stop.
    for engine in ("rules", "seq2seq"):
        out = load_rewriter(engine).rewrite("已经发货了 单号[单号x]", channel="chat").target
        assert "[单号x]。" in out and "[单号x]请" not in out, out


@pytest.mark.parametrize("draft, want, gone", [
    ("服务密码我这边重置不了", "无法重置", "重置不了"),
    ("这个赔不了", "无法赔付", "暂时"),  # a refusal by policy is final: 暂时 was judged a changed fact
    ("积分兑不了", "无法兑换", "兑不了"),
    ("您得本人带身份证去营业厅", "需要您本人带身份证去营业厅", "您得"),
    ("户内的管道得您自己修", "需要您自行修", "得您自己"),
    ("运费你自己出", "需要由您承担", "自己出"),
    ("赠品坏了这边不管", "无法处理", "不管"),
    ("扣费按套餐来的，不可能多扣", "一般不会多扣", "我马上为您核实一下多扣"),
    ("名字写错了不能改 只能退了重买", "无法修改", "暂时无法改，"),
    ("这都写在须知里了，看不懂吗？", "不知我有没有解释清楚", "看不不知"),
    ("活动昨天结束了 早干嘛去了", "活动昨天结束了", "为什么去了"),
    ("退款已经退了 别再问我们了", "退款已经退了", "我们了"),
    ("违约金由持卡人自行承担，银行概不负责。", "银行不承担相关责任", "概暂时无法"),  # 概不负责 was judged brusque
    ("运费发票要月结客户才开 你是散单 开不了", "无法开具", "无法开启"),
    ("电话里销不了户", "无法销户", "注销户"),
    ("行李箱轮子坏了是正常磨损 不赔", "无法赔付", "无法赔。"),
    # Judged ungrammatical on held-out, now whole sentences:
    ("插到LAN1上试试 不行再说", "如果仍无法解决，欢迎您再联系我们", "再说"),  # 如果仍无法解决，再说 was judged a fragment
    ("排队久也没办法 今天人多", "排队久，还请您谅解", "也我们"),  # 我们也暂时无法处理 was judged ungrammatical
    ("这是规定没办法", "这是相关规定，还请您谅解", "我们暂时无法处理"),  # was judged ungrammatical
    ("是公安那边要求的 我们也没办法 你去派出所问", "是公安那边要求的", "没办法"),  # the clause goes (judged: 我们暂时无法办理 reads wrong)
    ("卸载重装一下 还不行就没办法了", "如果仍无法解决，我们无法处理", "就，"),
    ("代办要委托书+双方身份证 少一样都不行", "少一样都无法办理", "都暂时无法办理"),
    ("这款耳机应该可以降噪", "一般可以", "预计可以"),
    ("理财的事我不懂 你找理财经理", "我这边暂时无法解答", "我为您进一步了解一下"),
    ("换了主板就好了 保证再也不会坏", "一般不会再坏", "争取再也"),
    ("保证三个工作日到账", "三个工作日到账", "争取"),
    ("玄学这东西谁能保证啊", "谁能保证", "谁能啊"),  # 谁能保证 promises nothing  # an outcome promised keeps its commitment (争取 was judged a changed decision)
    ("旧的不用寄回 保证能用", "一般能用", "争取能用"),
    # Shirking is declined, never turned into a promise (不关我们事 beside a referral was 我为您协调处理);
    # a bare 规定 becomes 这是相关规定; 别催 / 别天天打来问了 go whole (请不要催 still scolds).
    ("快递慢不关我们事 找快递去", "快递慢，我们这边无法处理", "协调处理"),
    ("这个跟我们没关系", "这个问题我们这边无法处理", "协调处理"),
    ("液体不收的 规定 你拿回去吧", "这是相关规定", "，规定，"),
    ("登记好了 48小时内有人联系你 别催", "48小时内有人联系您", "催"),
    ("投诉还在处理 别天天打来问了 有结果会打给你的", "有结果会打给您的", "打来问"),
    ("你名下已经5个了,再办不了,别为难我了", "无法再办理", "为难"),
    ("发票抬头你自己填错了 重开要扣50元", "发票抬头填写有误", "自己"),
    ("卡被冻结是你自己密码输错了 跟我说也没用", "是密码输入有误", "没用"),
    ("订单状态你自己上 www.sf-express.com 查", "您可以登录 www.sf-express.com 查", "自己"),
    # Scope is stated, not shirked (分机不在我们的查修范围); a delay is expected, not "normal".
    ("您这是既往症，现在理赔不了", "现在无法理赔", "理无法"),  # never 理无法赔付 (fresh23)
    ("这个现在补发不了", "暂时无法补发", "补暂时"),  # a two-character verb stays whole
    ("这个现在兑换不了", "暂时无法兑换", "兑暂时"),  # never 兑暂时无法更换
    ("这个现在派送不了", "暂时无法派送", "派暂时"),
    # A scan of 26,383 corpus, probe and bench drafts for a word cut by an insertion (2026-12-02)
    ("医保报销问医保局，12345回答不了", "12345暂时无法答复", "回暂时"),
    ("明早八点前准到，您就踏实等着吧", "请您耐心等待", "踏实请您"),
    ("事故车定损要等保险公司，我们也干等着", "我们也干等着", "请您耐心"),  # we wait too: no command
    ("三年十万公里全保 您就放一百个心", "请您放心", "就请您"),
    ("亲 电话里开不了国际长途", "无法开通国际长途", "开具"),
    ("积分只能换包月 不能换现金", "无法兑换现金", "更换"),  # 换 as exchange (held-out 0286)
    ("户内电线不归物业管", "户内电线不在物业的服务范围内", "不归"),
    ("国际件我们这不管", "我们这边暂时无法处理", "这不管"),
    ("我们只管送", "我们这边主要负责送", "只管"),
    ("暴雨停运了 晚两天很正常", "可能会晚两天", "正常"),
    ("快递就是这样 慢几天很正常 您再等等", "可能会慢几天", "就是这样"),
    ("这种断网每天都有 正常的", "这种断网每天都有", "正常"),
    ("户内电线不归物业管 你找电工", "建议您联系电工", "您找"),
    ("你这个情况不归我们管 你打110吧", "建议您拨打110", "打110吧"),
    ("路由器是你自己买的 自己恢复出厂设置去", "您可以自行恢复出厂设置", "设置去"),
    ("你找一下订单", "您找一下订单", "联系"),  # looking for something is no referral
    # An absolute promise loses the absolute, never the commitment (预计会到 was judged a changed decision).
    ("师傅单子太多了 今天肯定到", "今天会到", "预计"),
    ("换了路由器网速肯定能到1000M", "网速能到1000M", "肯定"),
    ("得先鉴定 是不是我们的责任还不好说", "是不是我们的责任", "是还"),  # 是不是 is no denial
    ("楼上漏水是邻居之间的事情 物业这边管不了", "物业这边无法处理", "物业我们"),
    ("登机口8:35就关了 免费改签这个真给不了", "免费改签无法为您办理", "给不了"),
    ("行李超重了要补钱，超的每公斤100块，这有什么好问的？", "每公斤100块。", "这。"),  # fresh14
    # Word-level steps that garbled a larger phrase in fresh12–fresh16's judged replies.
    ("3折特价票不退不改，买之前页面写得清清楚楚", "不支持退改", "无法退还不改"),
    ("电表是国家校验过的，不可能不准", "不准", "无法"),  # 不准 = inaccurate, no prohibition
    ("宠物不准进", "宠物无法进", "不准"),
    ("别啥事都来找客服哈", "什么事都来找客服", "请问有什么可以帮您"),
    ("套餐是营业厅签字办的，现在说不知道？", "说不知道", "暂时无法确认"),  # the customer's words, not the agent's
    ("我也不知道", "暂时无法确认", "不知道"),
    ("原包装配件少一样都不处理啊，听清楚没", "不知我有没有解释清楚？", "听不知"),
    ("宽带账号多少？装机地址发一下。", "麻烦您提供一下装机地址", "装机麻烦您"),
    ("理赔您直接找定损员，他电话138 1276 4409", "138 1276 4409", "138，1276"),
    ("短信里面写了的，页面上也写了的", "短信里面有相关说明，页面上有相关说明", "也上有"),
    ("系统不可能会出错", "系统一般不会出错", "不会会"),
    ("课程已经开课超过三分之一，退费不可能", "无法退费", "不太可能"),
    ("带身份证自己去柜台领，别再打电话来问了", "带身份证去柜台领", "您可以去"),
    ("发票自己去网上营业厅打，别再打电话来问了", "发票您可以去网上营业厅打", "请您发票"),
    # Garbles read on fresh17 (judged ungrammatical): each word-level step kept to its own sense.
    ("哥们儿东西落车上了，您联系司机吧", "东西落车上了", "儿东西"),
    ("下周肯定能到5万，百分百的", "下周能到5万", "，的"),
    ("密码连错三次锁了是您自己输错的", "是因为输入有误", "是输入有误的"),
    ("光猫灯红了你先自己重启一下", "光猫灯红了，建议您先重启一下", "您建议您"),
    ("明天上午保证到！到不了您找我", "如未送达，您可以直接联系我", "暂时无法送达您找我"),
    ("您自己打不开可能是网不好呢，换个网试试", "您打不开", "您可以自行打不开"),
    ("系统有照片，您说没收到是什么意思", "您是说没收到吗？", "您说对不起"),
    ("光凭感觉可不行呢，您说是假的得拿出鉴定报告", "可不行", "可暂时无法办理"),
    ("实在不行明天给您换到12楼，今晚满房", "实在不行", "实在暂时无法办理"),
    ("账号0571-88231409我记下了，明天上门", "我记下了", "记一下了"),
    ("封号是系统检测到外挂 申诉一次就够了 结果就是这样 没得改", "申诉一次就够了", "就，"),
    ("充了648没到账？你是不是点错区了哈哈，我们这边查不到订单", "区了，我们", "了我们"),
    ("拍一下餐品照片发过来。", "麻烦您拍一下餐品照片发给我", "照片麻烦您"),
    ("冰箱不制冷您先断电放一天，别一不行就要换新", "一不行就", "一如果仍无法解决"),
    ("他一上午看八十个病人，您就体谅一下不行吗", "不行吗", "无法办理吗"),
    ("新车磨合期都这样 开到三千公里自己就没了，别急", "自己就没了", "自己已经没有了"),
    ("特价票不退只改 购买页面都写着呢您没看？", "购买页面有相关说明", "解释清楚？"),
    ("通知三天前就贴单元门口了 你没看到那我们也没办法", "，还请您谅解", "那，还请"),
    ("报告没拿到是你自己没按时来，检查单上写着下午3点后取", "没按时来", "按照时操作"),
    ("堵车我们有啥子办法嘛 等到起噻", "有什么办法", "什么子"),
    ("没票就是没有了 候补也不保证 你自己去刷吧", "建议您去刷", "刷吧"),
    ("系统里没你记录啊 付款截图发过来", "麻烦您提供一下付款截图", "截图麻烦您"),
    ("开户的时候就签了的，您当时自己签的字嘛，现在说不知道", "您当时已签字确认", "自行签"),
    ("退的话扣378 系统算的 我也改不了 您到底还退不退", "请问您是否需要退？", "请问您还请问"),
    ("再不还就上征信了，到时候别来找我们哭", "如有问题请随时联系我们", "我们哭"),
    ("哎呀我说了 退票在12306上自己弄就行了 还打电话干嘛", "12306", "为什么"),
    ("提车时间不是早跟你说了吗，等通知", "关于提车时间，我再为您说明一下", "不是我再为您"),
    ("行李丢车上了？那你当时干嘛不看好？G1234次都到终点了", "G1234次都到终点了", "那？"),
    ("亲下单页面明明写的预售45天发货，拍之前为什么不看清楚呢？等不了就退吧", "发货", "拍？"),
    ("理赔材料缺发票原件，你自己去医院补", "建议您去医院补", "建议您医院"),
    ("您的卡被冻结是公安要求的 您得自己去派出所问", "需要您本人去派出所", "需要您可以自行"),
    ("快递员派件量大 你下楼拿一下又不远", "下楼拿一下", "不远"),
    ("保养一次680元是原厂机油的价格，出了问题别来找我们就行。", "如有问题请随时联系我们", "出了问题如有问题"),
    ("皮肤科在门诊楼3楼 您问导诊台去吧", "导诊台", "导诊台去"),
    ("今天一定给你把那个司机封了，你先把行程单号发来", "麻烦您先提供一下行程单号", "行程麻烦您"),
    ("不赔就是不赔，别再来问。", "不赔", "问。"),
    ("逾期了会上征信，谁让你没按时还呢？最低还款都没还", "会上征信，最低", "征信？"),
    ("保养预约满了，下周再说吧", "您看下周可以吗？", "下周。"),
    ("候补能不能成功谁也说不准，您问我我问谁去", "目前还无法确定", "去。"),
    ("老板您房间空调坏了，我们已经喊师傅去看了咯", "去看了", "了了"),
    ("回复@小鹿乱撞de保单：保单号发过来", "回复@小鹿乱撞de保单：", "建议您乱撞"),
    ("改签免费，其他的我们真没办法了", "其他的确实无法办理", "真，"),
    ("您要是还觉得热我们也没办法给您换房", "也无法给您换房", "谅解给"),
    ("说明书上写着不能用热水冲洗", "说明书上注明不能用热水冲洗", "暂时无法"),
])
def test_refusals_commands_and_shirking_get_whole_words(rules, draft, want, gone):
    """verb+不了 becomes 暂时无法 + a whole verb (never 暂时无法赔); 您得 becomes 需要您; 自己出 and
    这边不管 lose the shirking."""
    out = rules.rewrite(draft, channel="chat").target
    assert want in out and gone not in out, out


@pytest.mark.parametrize("draft, want", [
    ("房间号说一下", "麻烦您告诉我房间号"),
    ("服务密码输一下", "麻烦您输入一下服务密码"),
    ("孩子的学号和班级发一下", "麻烦您发一下孩子的学号和班级"),
    ("登机牌拿好", "请您拿好登机牌"),
    ("先重启路由器", "建议您先重启路由器"),
    ("我帮您查一下", "我帮您查一下"),  # the agent's own action is no instruction
    ("您再说一下", "您再说一下"),
    ("都说一下", "都说一下"),
    # Contradicting the customer becomes empathy before the facts (an offer to check beside a firm
    # answer was judged invented); agreement stays.
    ("您想多了 系统很稳定", "我理解您的担心，系统很稳定"),
    ("不存在多收", "目前暂未查到多收的情况"),  # no offer to check beside it (judged invented)
    ("这个没错，您说得对", "这个没错，您说得对"),
    # 你自己弄的 says who caused it (blame), never "handle it yourself" (was 您可以自行处理的).
    ("这个是人为的，你自己弄的", "这个是人为的，您弄的"),
])
def test_a_bare_instruction_asks_with_its_object_kept(draft, want):
    """The rules step alone (the pipeline sends it only what the checker flags)."""
    p = protect_for_model(draft)
    out = restore(RulesBackend().generate([p.masked], n=1, channel="chat")[0][0], p.slots)
    assert out.rstrip("。") == want, out


def test_normal_and_this_way_go_only_as_whole_brush_off_clauses(rules):
    for text in ("正常情况下三天到账", "这个事情都这样处理的吗", "我们这边负责审核"):
        assert text.rstrip("吗") in rules.rewrite(text, channel="chat").target


def test_unavoidable_and_unforgettable_are_not_refusals(rules):
    for text in ("等待免不了，我们会尽快。", "您放心，我们忘不了您的预约。"):
        assert "暂时无法" not in rules.rewrite(text, channel="chat").target


def test_a_bare_refusal_gets_regret_and_a_signature_stays_last(rules):
    """A refusal by verb+不了 or 不赔 gets the refusal frame (the engine issue: a refusal gets an
    apology); on a Weibo reply the close goes before the signature, never after it."""
    out = rules.rewrite("大额取现要提前一天预约 今天取不了", channel="phone").target
    assert out.startswith("非常抱歉") and out.endswith("感谢您的理解。"), out
    out = rules.rewrite("条款里写得很清楚，不在保障范围，不赔。小编", channel="chat").target
    assert out.endswith("感谢您的理解。小编") and "小编。" not in out, out


@pytest.mark.parametrize("draft, gone", [
    ("你经常出差办个白金卡呗 机场贵宾厅免费的", "转告"),  # 出差 of the customer: no colleague away
    ("你经常出差办个白金卡呗 机场贵宾厅免费的", "对不起"),
    ("这款耳机应该可以降噪 你买回去试试", "我核实后尽快回复您"),  # a hedge is no unanswered question
    ("喂 你那个机顶盒一直显示E17是吧 那个是卡没插好 你拔出来擦一擦再插进去", "请问有什么可以帮您"),
])
def test_no_frame_from_a_keyword_outside_its_act(rules, draft, gone):
    """The engine issue: frames come from the act, never from a keyword alone."""
    assert gone not in rules.rewrite(draft, channel="phone").target


def test_a_bare_greeting_still_gets_its_frame(rules):
    assert rules.rewrite("喂 95598", channel="phone").target == "您好，95598。请问有什么可以帮您？"


@pytest.mark.parametrize("draft, want, gone", [
    ("七天无理由是从签收第二天开始算 不是下单那天 搞清楚哦", "不是下单那天", "搞清楚"),
    ("积分只能换包月 不能换现金 你看着换", "您可以根据需要选择", "看着换"),
    ("这次听好了 密码是手机号后六位", "密码是手机号后六位", "听好"),
])
def test_scolding_commands_go_whole(rules, draft, want, gone):
    """搞清楚哦 / 记住了 / 你看着换 scold or brush off: the clause goes (never 请您搞清楚)."""
    out = rules.rewrite(draft, channel="phone").target
    assert want in out and gone not in out, out


def test_a_number_at_the_end_gets_its_full_stop_a_kept_term_does_not():
    from rewrite.engines.rules import _finish

    assert _finish("建议您拨打<NUM1>") == "建议您拨打<NUM1>。"
    assert _finish("单号<ID1>") == "单号<ID1>。"
    # A masked term may be a kept emoticon code ([呵呵]); a URL or Latin word could swallow the dot.
    for text in ("请及时取件<ENT1>", "请登录 <URL1>", "型号是<EN1>", "好的[微笑]"):
        assert _finish(text) == text


@pytest.mark.parametrize("draft, want, gone", [
    # Asked, not ordered: 报一下 / 报下 X / 一个个报.
    ("手机号 你报一下", "麻烦您告诉我一下", "报一下"),
    ("报下身份证后四位", "麻烦您告诉我身份证后四位", "报下"),
    ("姓名 身份证号 一个个报", "麻烦您逐项告诉我", "一个个报"),
    # Calling back is welcomed, not ordered.
    ("没修好你再打来报", "没修好的话，欢迎您再来电", "打来"),
    ("王经理今天休息 明天再打", "麻烦您明天再来电", "再打"),
    # A brush-off becomes an open door; a rhetorical 我们怎么知道 goes.
    ("订单页面有入口 找不到就算了", "找不到的话，欢迎您随时联系我们", "算了"),
    ("易碎品寄的时候没说 我们怎么知道要轻拿轻放", "易碎品寄的时候没说", "怎么知道"),
    # Pointing at the small print states where it is.
    ("积分换的东西不退不换的 兑换页写了的", "兑换页上有相关说明", "写了的"),
    ("条款里写得很清楚，不在保障范围", "条款里有相关说明", "里上"),
    ("这不是质量问题 是你没按说明书用", "可能是使用时没有完全按照说明书操作", "您没按"),
    # 自己 in a request; a referral to 问问 / 问别人; paying early.
    ("钥匙在前台 你自己来认领", "请您本人来认领", "自己"),
    ("那可能是家里人拿了 你问问", "麻烦您再确认一下", "问问"),
    ("保修政策改了?我也不清楚 你问问别人", "建议您咨询一下相关工作人员", "别人"),
    ("包年下周三到期 早点交", "请您尽早缴费", "早点交"),
    ("查件要手机号 不然不给查", "否则无法查询", "不给查"),
    # A suggestion with 吧/呗 is made as a suggestion or a question.
    ("师傅说去了你家没人 那只能重新约了呗", "您看重新约个时间可以吗？", "呗"),
    ("今天来不了了 改明天吧", "您看明天可以吗？", "改明天吧"),
    ("吵得厉害你就报警吧", "吵得厉害的话，建议您报警", "就报警吧"),
    ("你老看体育 办个体育包呗 一个月15", "建议您办个体育包", "呗"),
    ("你流量老不够用的话换个大流量卡呗", "不够用的话，建议您换个大流量卡", "呗"),
    # A guess at the customer's side is asked as a question; 就没了 after an expiry says what happens.
    ("你家漏水修好了吧 修好就行了", "请问您家漏水修好了吗？", "了吧"),
    ("改下午2点到4点 你在家吧?", "请问您在家吗？", "吧"),
    ("积分年底清零 过期就没了", "过期后就会失效", "已经没有了"),
    ("停电通知贴楼下了 自己看", "您可以查看一下", "自己看"),
    # 暂时 never softens a rule that is final (就…了, …了) or a refund or compensation refused by policy.
    ("过了7天就不能退了 只能修", "就无法退回了", "暂时"),
    ("起飞前2小时内不能改了 只能退", "无法修改了", "暂时"),
    ("这个不赔的", "无法赔付", "暂时"),
    ("这个套餐下架了 现在办不了了", "现在无法办理了", "暂时"),
    ("航班改不了了 特价票", "无法修改了", "暂时"),
    ("机主本人来办 别人代办不了", "别人无法代为办理", "代暂时"),
    ("积分换的东西不退不换的", "无法退换", "退换的"),
    # A rule is not said to be temporary (Rewriter._untemporary: judges read an added 暂时 as a changed decision).
    ("服务密码我这边重置不了", "无法重置", "重置不了"),
    # 又不是我们的问题 argues and says nothing (issue 14: such a clause is dropped); a guess at who
    # signed is stated as a possibility.
    ("暴雨停运了 又不是我们的问题", "暴雨停运了", "受理范围"),
    ("显示已签收 家里人签的吧", "可能是家里人代签了", "签的吧"),
    # 要不要随你 asks; 你老看体育 is 您经常 (您老 addresses an elder); a retry is welcomed.
    ("补偿就是减免三天费用 要不要随你", "您看可以吗？", "是否需要"),
    ("你老看体育 办个体育包呗", "您经常看体育", "您老"),
    ("重插一下 还不行再报", "如果仍无法解决，欢迎您再联系我们", "再报"),
    # Rhetoric, scolding and bare requests, found unrepaired in judged replies.
    ("验证码不是发了链接嘛 这次看清楚", "已经发了链接", "看清楚"),
    ("要先查资源 你先报地址", "麻烦您先告诉我地址", "报地址"),
    ("发票随货寄的 箱子里找找", "麻烦您在箱子里找一找", "找找"),
    ("利率我查不到 你明天再问", "麻烦您明天再来电", "再问"),
    ("系统慢 你等半小时 还没有再打来", "麻烦您耐心等待半小时，还没有的话，欢迎您再来电", "你等"),
    ("没信号就是你线没插好", "可能是线没有插好", "你线"),
    ("我看看你家欠没欠费", "是否欠费", "欠没欠"),
    ("保养不含机滤 要换加钱 爱换不换", "要换加钱", "爱"),
    ("我不是已经退了吗", "我再为您核实一下", "我我"),
    # 要不要 at the end asks whether that suits; 你们村 is 您所在的村, never 您村.
    ("周六排满了 最早下周二 要不要", "最早下周二，您看可以吗？", "是否需要"),
    ("你要不要办个宽带", "请问您是否需要办个宽带", "需要？"),
    ("光纤拉到你们村还要一个月", "您所在的村", "您村"),
    # A brush-off that carries the next step says it.
    ("光纤拉到你们村的时间还没定 等通知吧", "请您留意后续通知", "等通知"),
    ("中转站没找到 再等等吧", "请您再耐心等待一下", "等等吧"),
    ("要先报警 调查完了再说", "调查完了再为您处理", "再说"),
    ("抢修还没结束 你留个电话吧", "建议您留个电话", "留个电话吧"),
    ("这次肯定修好 放心好了", "请您放心", "放心好了"),
])
def test_unrepaired_clause_families(rules, draft, want, gone):
    """Clauses the critic heard but nothing rewrote, so they were sent as typed (judged 不可用)."""
    out = rules.rewrite(draft, channel="phone").target
    assert want in out and gone not in out, out


@pytest.mark.parametrize("draft", [
    "钱已经到账了", "师傅来了", "抢修结束后来电了告诉您", "到不到账要看银行", "去过了", "给您带来不便",
    "您家附近在施工吧", "您说MU5305是吧", "您在家吧", "您是本人吧", "这个您知道吧", "您放心吧",
    "合同上写了违约金", "我们再约个时间吧",
])
def test_a_guess_or_a_question_with_ba_is_no_suggestion(rules, draft):
    """…吧 that guesses (在施工吧), checks (是本人吧) or is the agent's own plan stays as it was."""
    out = rules.rewrite(draft, channel="phone").target
    assert "建议您" not in out and "相关说明" not in out and "可以吗" not in out and "请您" not in out, out


def test_touch_up_applies_only_the_after_families():
    """The rules' last say on another engine's reply: clause families only, no frame, no tidy-up,
    placeholders kept; a finished reply without such a clause comes back byte-identical."""
    rules = RulesBackend()
    p = protect_for_model("非常抱歉，师傅今天来不了了，改明天吧，明天您几点在家。谢谢。")
    out = restore(rules.touch_up(p.masked), p.slots)
    assert out == "非常抱歉，师傅今天来不了了，您看明天可以吗？请问明天您几点在家？谢谢。", out
    for polished in ("您好，请您本人带身份证到营业厅办理。请问还有什么可以帮您？",
                     "亲，已经发货了哦，请您放心", "好的 收到", "iPhone 15 Pro 有货吧",
                     "您好，记得先登录，觉得等不及也值得等，请您看下午的通知，等下周再说。",
                     "您好，几点到几点公告上有说明，检查下水管的事我们来安排。",
                     "您好，您不要先交钱，只要先登录就行，我要交接一下，钥匙弄丢了也没关系。",
                     "您好，事实上下午有空，其实下周可以，请您出门前先关好门窗。",
                     "好的，我找师傅去，稍后给您回电。",
                     "空调不制冷可能是用户自己开错模式了。",
                     "当然可以，我们当然会为您处理。",
                     "这个箱子不是我们的快递，您问什么我都可以帮您查。"):
        q = protect_for_model(polished)
        assert restore(rules.touch_up(q.masked), q.slots) == polished
    q = protect_for_model("订单20240517886明天到，运费12元，明天吧")
    assert placeholder_problems(rules.touch_up(q.masked), q.slots) == []


def test_the_rules_have_the_last_say_on_a_model_reply():
    """A model reply that passes the checker but still says 改明天吧 is touched up by the rules;
    a fine draft is never sent there, and identity never gets it."""
    from rewrite.pipeline import Rewriter

    class Model:
        name = "model"

        def generate(self, chunks, *, n=1, channel="phone"):
            return [["非常抱歉，师傅今天来不了了，改明天吧，明天您几点在家？"] for _ in chunks]

    rw = Rewriter(Model(), RulesBackend(), touch_up=RulesBackend())
    out = rw.rewrite("师傅今天来不了了 改明天吧 明天你几点在家").target
    assert "您看明天可以吗？" in out and "改明天吧" not in out, out
    assert Rewriter(Model(), RulesBackend(), touch_up=RulesBackend()).rewrite("好的，已经为您登记。").target == "好的，已经为您登记。"
    assert load_rewriter("identity").rewrite("改明天吧").target == "改明天吧"


def test_the_last_say_reads_keep_spans_and_keeps_them():
    """A keep span (明天, 机场问讯) is read whole by the rules' last say, and comes through; a
    clause the step only splits is not held against it (the critic hears 您流量老不够用的话 anew, as blame)."""
    from rewrite.pipeline import Rewriter

    class Model:
        name = "model"

        def __init__(self, reply):
            self.reply = reply

        def generate(self, chunks, *, n=1, channel="phone"):
            return [[self.reply] for _ in chunks]

    out = Rewriter(Model("您好，那边说车坏了，明天吧。"), RulesBackend(), touch_up=RulesBackend()).rewrite(
        "那边说车坏了 明天吧", keep=["明天"]).target
    assert "您看明天可以吗？" in out and "明天吧" not in out, out
    out = Rewriter(Model("对不起，机场大巴不是我们的，打机场问讯。"), RulesBackend(), touch_up=RulesBackend()).rewrite(
        "机场大巴不是我们的 打机场问讯", keep=["机场大巴", "机场问讯"]).target
    assert "建议您拨打机场问讯咨询" in out and "机场大巴" in out, out
    from rewrite.pipeline import _Choice

    old = _Choice("您好，您流量老不够用的话换个大流量卡呗，59的有30G。", [], True, True)
    split = "您好，您流量老不够用的话，建议您换个大流量卡，59的有30G。"
    assert Rewriter._no_worse(old, split, "phone").text == split
    worse = "您好，您流量老不够用的话，建议您换个大流量卡，别烦我了。"
    assert Rewriter._no_worse(old, worse, "phone").text == old.text
    # A number said twice is one placeholder, twice: the last say still applies.
    rw = Rewriter(Model(""), RulesBackend(), touch_up=RulesBackend())
    twice = _Choice("亲，杯子碎了2个？补发2个给您，单号晚点发您。", [], True, True)
    assert rw._touched(twice, [], "chat").text == "亲，杯子碎了2个？补发2个给您，单号稍后发给您。"


def test_good_news_gets_a_greeting_not_a_bare_apology():
    """An engine's bare 非常抱歉 before good news becomes 您好 (its close offers help); where the draft
    owns a slip (来晚了) or the news is bad, the apology stays."""
    from rewrite.pipeline import Rewriter

    class Model:
        name = "model"

        def __init__(self, reply):
            self.reply = reply

        def generate(self, chunks, *, n=1, channel="phone"):
            return [[self.reply] for _ in chunks]

    def run(reply, draft):
        return Rewriter(Model(reply), RulesBackend(), touch_up=RulesBackend()).rewrite(draft, channel="chat").target

    out = run("非常抱歉，登记好了，稍后有人联系您。感谢您的理解。", "登记好了 稍后有人联系你 别催")
    assert out == "您好，登记好了，稍后有人联系您。请问还有什么可以帮您？", out
    out = run("非常抱歉，师傅来晚了，已经修好了。感谢您的理解。", "师傅来晚了 已经修好了 别催")
    assert out.startswith("非常抱歉"), out
    out = run("非常抱歉，登记好了，但暂时无法上门。感谢您的理解。", "登记好了 但暂时无法上门 别催")
    assert out.startswith("非常抱歉"), out


def test_regret_for_bad_news_gets_its_close():
    """An engine's 非常抱歉，<bad news>。 that stops there gets 感谢您的理解。; a reply that asks, or
    has a close, or brings no bad news, does not."""
    from rewrite.pipeline import Rewriter, _Choice

    for text, want in [
        ("非常抱歉，流量月底清零，无法结转。", "非常抱歉，流量月底清零，无法结转。感谢您的理解。"),
        ("非常抱歉，流量月底清零，无法结转，您看可以吗？", None),
        ("非常抱歉，流量月底清零，无法结转，还请您谅解。", None),
        ("非常抱歉，流量已经到账了。", None),
        ("您好，流量月底清零，无法结转。", None),
    ]:
        got = Rewriter._closed(_Choice(text, [], True, True), "chat").text
        assert got == (want or text), got


def test_a_rewritten_reply_left_without_courtesy_gets_its_frame():
    """Once its offending clause goes, a reply with no courtesy word and no greeting left gets the
    frame of a bare reply (seen on fresh13: …结论是符合规定。 was judged too curt)."""
    out = load_rewriter("seq2seq").rewrite(
        "您这个诉求上个月就回复过了，工单号GZ2405180331，结论是符合规定，再打多少次也是一样的结果", channel="chat").target
    assert out.startswith(("您好", "非常抱歉")) and "GZ2405180331" in out and "一样" not in out, out


def test_a_weibo_mention_stays_first():
    """@name opens the reply, before any apology, with one greeting after it."""
    from rewrite.pipeline import Rewriter, _Choice

    for text, src, want in [
        ("很抱歉，@一只小橙子_ 您好，您家信号弱是楼层太高。", "@一只小橙子_ 您好 您家信号弱是楼层太高", "@一只小橙子_ 您好，很抱歉，您家信号弱是楼层太高。"),
        ("您好，@小鱼，您好，超重收费合理合规。", "@小鱼 您好 超重收费合理合规", "@小鱼 您好，超重收费合理合规。"),
        ("非常抱歉，回复@小周：我们每周都消杀。——小编", "回复@小周：不可能有蟑螂 我们每周都消杀 ——小编", "回复@小周：非常抱歉，我们每周都消杀。——小编"),
        ("@小鱼，退款已经到账了。", "@小鱼 退款已经到账了", None),
        ("您好，退款已经到账了。", "退款已经到账了", None),
    ]:
        got = Rewriter._mention_first(_Choice(text, [], True, True), src).text
        assert got == (want or text), got


def test_the_customers_echoed_question_goes_before_the_apology():
    """非常抱歉，装机改到周六？周六排满了 → 装机改到周六？非常抱歉，周六排满了; the agent's own
    question (付了没？, 请问…吗？) keeps its place."""
    from rewrite.pipeline import Rewriter, _Choice

    for text, want in [
        ("非常抱歉，装机改到周六？周六排满了，最早下周二。", "装机改到周六？非常抱歉，周六排满了，最早下周二。"),
        ("非常抱歉，付了没？我这边没看到钱。", None),
        ("非常抱歉，您确定是官方渠道买的？序列号没有查到。", None),
        ("非常抱歉，请问您付成功了吗？我这边没看到钱。", None),
        ("非常抱歉，周六排满了，最早下周二。", None),
    ]:
        got = Rewriter._echo_first(_Choice(text, [], True, True), "chat").text
        assert got == (want or text), got


@pytest.mark.parametrize("draft, want", [
    # A bare instruction to go, bring or come asks (请您); 得去 says what is needed.
    ("卡被冻了 带身份证去柜台解", "卡被冻了，请您带身份证去柜台解锁"),  # 解 alone was judged clipped
    ("我这给你临时挂失 5天内去网点补办", "我这给您临时挂失，请您5天内去网点补办"),
    ("遥控器坏了?来营业厅换", "遥控器坏了？请您来营业厅换"),
    ("我这远程解不了 得去营业厅", "我这远程暂时无法解除，需要您去营业厅"),
])
def test_a_bare_instruction_to_go_or_bring_asks(draft, want):
    p = protect_for_model(draft)
    out = restore(RulesBackend().generate([p.masked], n=1, channel="chat", positions=[(False, True)])[0][0], p.slots)
    assert out.rstrip("。") == want, out


def test_the_agents_own_temporary_limit_stays_temporary():
    """暂时 goes only where the rules themselves turn a final refusal (不赔, 退不了, 不能改了) into
    words; an agent who wrote 暂时无法退款 (a system upgrade) keeps it, in the rules and in the
    default engine's last say."""
    for draft in ("系统升级 暂时无法退款了 明天再试", "系统升级 暂时无法退款 明天恢复"):
        p = protect_for_model(draft)
        assert "暂时无法退款" in restore(RulesBackend().generate([p.masked], n=1, channel="chat")[0][0], p.slots)
        assert "暂时无法退款" in load_rewriter("seq2seq").rewrite(draft, channel="chat").target


def _touched(text: str) -> str:
    p = protect_for_model(text, content=False)
    return restore(RulesBackend().touch_up(p.masked), p.slots)


@pytest.mark.parametrize("reply, want, gone", [
    # Scolding and rhetoric that another engine left in a finished reply: the clause goes, and the
    # punctuation around it is tidied (a reply never ends on a comma).
    ("非常抱歉，暴雨停飞，航空公司不赔偿，请不要闹。感谢您的理解。", "航空公司不赔偿。感谢您的理解。", "闹"),
    ("您好，账号是系统封的，您违规了请不要狡辩了，暂时无法解封。", "账号是系统封的，暂时无法解封。", "狡辩"),
    ("您好，您已欠费20元，明天再不交就停机，到时候别说没提醒您。", "明天如未及时缴费，将会停机。", "提醒"),
    ("您好，作业的事是孩子的问题，跟班主任说有什么用。", "是孩子的问题。", "有什么用"),
    ("非常抱歉，台风停航，又不是船公司能控制的，您投诉也没用。", "台风停航。", "没用"),
    ("亲，迟到又不是我们让司机慢的，下雪单多，请您耐心等待。", "亲，下雪单多", "又不是"),
    ("亲，详情页上有相关说明，您没看吧。感谢您的理解。", "详情页上有相关说明。感谢您的理解。", "没看"),
    ("您好，说了好几遍了，停电是线路检修。", "您好，停电是线路检修。", "遍"),
    ("您好，说了宽带只能报停一次，再报不了。", "您好，宽带只能报停一次", "说了"),
    ("您好，多出来的10元是短信费，我们没乱收。", "如有疑问，我可以为您逐项核对", "乱收"),
    ("您好，读数是3300，上月3250，没算错。", "如有疑问，我可以为您再次核对", "没算错"),
    ("您好，这次不是我们涨价，是您的折扣到期了。", "这是因为您的折扣到期了", "涨价"),
    # Questions, requests and payments said the way the phrasebook says them.
    ("号码注销后无法恢复，真要注销？", "请问您确定要注销吗？", "真要"),
    ("非常抱歉，没有买运费险，来回运费只能您出。", "需要由您承担", "只能您出"),
    ("您好，按规定收取30元，不服您可以申请复核。", "如有疑问，您可以申请复核", "不服"),
    ("您好，请问办什么业务？后面还有人排队呢。", "请问办什么业务？", "排队"),
    ("您好，请您告诉我手机号码，麻烦您尽快。", "请您告诉我手机号码。", "尽快"),
    ("非常抱歉，满500分才能兑换，您才320。", "您目前只有320", "您才"),
    ("您好，打印机丢了？照价赔偿，没得商量。", "这是统一标准", "商量"),
    ("非常抱歉，天气原因不赔，这个没得商量。感谢您的理解。", "不赔，这是统一标准。感谢您的理解。", "这个这是"),
    # Blame becomes the cause, a doubt or an offer; an overpromise becomes an effort.
    ("您好，网卡被锁是您输错密码了。", "网卡被锁是因为输错密码了", "是您输错"),
    ("您好，肯定是您电脑设置的问题。", "可能是您电脑设置的问题", "肯定"),
    ("您好，画面卡顿可能是您家网络的问题。", "可能是您家网络的问题", "可能可能"),
    ("您好，耳机杂音是您用的问题。", "可能是使用方式的问题", "您用的"),
    ("您好，丢件是快递的事，别的不管。", "丢件是快递的事。", "不管"),
    ("您好，排队时间长，您急我也急。", "我非常理解您着急的心情", "我也急"),
    ("您好，您再催我也变不出零件来，零件还在路上。", "您好，零件还在路上。", "变不出"),
    ("您好，包裹在仓库里，放心，丢不了。", "我们会尽力为您查找", "丢不了"),
    ("您好，请告诉我订单号，我记。", "我为您记录一下", "我记。"),
    ("您好，换个插座试试，还不亮再说。", "如果仍无法解决，欢迎您再联系我们", "再说"),
    ("您好，会员欠费了当然用不了。", "欠费了，所以暂时无法正常使用", "当然"),
    ("您好，货款已经原路退回，到不到账看银行。", "具体到账时间以银行处理为准", "看银行"),
    ("您好，报名要走流程，您按流程走就行。", "请您按流程办理即可", "就行"),
    ("亲，您拍个照我看看。", "麻烦您拍张照片发给我看一下", "拍个照"),
    ("您好，资料在官网上，请您自己下载。", "您可以自行下载", "自己"),
    ("您好，话费是按套餐扣的，您再仔细看看账单。", "麻烦您再核对一下账单", "仔细看看"),
    ("您好，逾期费用由用户承担，平台概不负责。", "平台不承担相关责任", "概不"),
    ("您好，网络卡顿先自己重启路由器，重启解决不了再报修。",
     "建议您先重启路由器，重启后如果仍无法解决，欢迎您再联系我们", "解决不了"),
    ("非常抱歉，异地件要加收5元，各地都这样。", "各地都是同样的标准", "这样"),
    ("您好，电视的事打电视客服，我们这边负责宽带。", "建议您拨打电视客服咨询", "事打"),
    ("您好，地铁接驳车不是我们的。", "地铁接驳车不在我们的服务范围内", "不是我们的"),
    ("您好，上次装的空调还响吗，不响就给个好评。", "如果您满意，欢迎给我们一个好评", "给个好评"),
    ("您好，航司原因赔200，天气原因一分没有。", "天气原因不在赔偿范围内", "一分"),
    ("非常抱歉，航班延误了，您在候机厅等着吧。", "请您在候机厅耐心等待", "等着"),
    ("您好，这个月电费高是阶梯电价，没多收您的。", "如有疑问，我可以为您再次核对", "没多收"),
    ("非常抱歉，已经出库了暂时无法改地址，您可以联系物流改吧。", "您可以联系物流改。", "改吧"),
    ("非常抱歉，其他品牌我们不修，找他们售后。", "建议您联系对应品牌的售后", "找他们"),
    ("您好，收据师傅没带？那您找前台补，电话是0571-88886666。", "建议您联系前台办理", "您找前台"),
    ("非常抱歉，隔壁装修弄坏了您家墙面，那您找隔壁赔。", "建议您与隔壁协商赔偿事宜", "找隔壁赔"),
    ("非常抱歉，暂时不能提额，满一年再申请。", "建议您满一年后再申请", "满一年再"),
    ("您好，开户要刷脸，验证不过就去营业厅。", "如果验证未通过，建议您到营业厅办理", "就去"),
    ("您好，失物招领电话是020-36060000，您可以打去问。", "建议您拨打咨询", "打去问"),
    ("您好，失物招领电话是020-36060000，您自己打去问。", "，建议您拨打咨询", "您建议"),
    ("温馨提醒您，停车费欠了两个月，再不交要收违约金喽。", "如未及时缴费，将会收违约金", "再不交"),
    ("您好，办卡要户口本原件，没带就下次吧。", "欢迎您下次带齐后再来办理", "下次吧"),
    ("您好，行李超重收您200，按规定的。", "这是按相关规定执行的", "按规定的。"),
    ("非常抱歉，退租要把门卡和钥匙都交回来，少一个扣钱。", "如有缺少，将按规定扣除相应费用", "扣钱"),
    ("非常抱歉，约的是下午2点到5点，现在才4点，还没到点呢。", "目前还在约定的时间范围内", "没到点"),
    ("您好，零件少了建议您联系卖家，快递外箱又没破。", "建议您联系卖家。", "又没破"),
    ("对不起，港澳件我们这边暂时无法处理，打港澳专线400-800-1234。", "建议您拨打港澳专线400-800-1234咨询", "，打港澳"),
    ("对不起，这个月话费高是超了流量，如有疑问，我可以为您再次核对。", "您好，这个月话费高", "对不起"),
    ("非常抱歉，您约的是下午，师傅5点半到的也算下午啊。", "师傅5点半到，仍在下午的预约时段内", "也算"),
    ("您好，投诉保洁员是吧，麻烦您告诉我楼号。", "您是要投诉保洁员，对吗？", "是吧"),
    ("您好，工程师都说了是您家电路问题，跟空调没关系。", "经工程师检查，是您家电路问题", "可能"),
    ("好的，可能是路由器的问题，跟我们网络没关系，建议您重启。", "我们这边的网络是正常的", "没关系"),
    ("您好，退宽带要把光猫还回来，不还扣200押金啊。", "如未归还，将扣除200押金", "不还扣"),
    ("非常抱歉，到付的运费需要您支付，否则只能退回给寄件人。", "到付的运费需要您支付", "请您"),  # 到付 is no going
    # Spoken shortcuts said in full: 得 (must) → 需要, 查下 → 查一下, a question asked as one.
    ("对不起，电压不稳烧了您电视？得先鉴定。", "需要先鉴定", "得先"),
    ("非常抱歉，重约得排3天。", "重约需要排3天", "得排"),
    ("您好，兑的流量包已经到账了，您可以查下短信。", "查一下短信", "查下短信"),
    ("非常抱歉，师傅今天来不了了，明天您几点在家。谢谢。", "请问明天您几点在家？", "在家。"),
    ("您好，非常抱歉，快递放门口丢了不关物业的事，建议您联系快递。", "不属于物业的责任范围", "不关"),
    ("非常抱歉，销户要先把欠的38.5交了，不然无法注销。", "销户需要先把欠的38.5交了，否则无法注销", "销户要先"),
    ("您好，请您尽快弄一下，弄好了告诉我。", "请您尽快处理一下，处理好了告诉我", "弄"),
    ("亲，补发2个给您，单号晚点发您。", "单号稍后发给您。", "晚点"),
    ("您好，开好了发您邮箱。", "开好了发到您的邮箱", "发您"),
    ("请您稍等，我给您查查怎么回事。", "我为您查一下怎么回事", "查查"),
    ("您好，显示已签收，可能是放驿站了吧，您可以找找，找不到，还请您谅解。", "如果仍找不到，欢迎您再联系我们", "谅解"),
    ("亲，非常抱歉，发票开过一次了，不能重复开，弄丢了是您自己的事。感谢您的理解。", "不能重复开。感谢", "自己的事"),
    ("您好，显示已签收，可能是放驿站了吧。", "可能是放驿站了。", "吧"),
    ("您好，合约还有4个月，现在拆需要交违约金，合同是您自己签的。", "现在拆需要交违约金。", "签的"),
    ("非常抱歉，电费发票在网上国网app自己开，我们无法寄。", "您可以在网上国网app自行开，暂不提供邮寄服务", "自己"),
    ("非常抱歉，那个，您这个理赔材料不全。", "非常抱歉，您这个理赔材料不全", "那个"),
    ("非常抱歉，您楼上漏水找楼上去，这个物业无法处理。", "您楼上漏水，建议您联系楼上", "找楼上去"),
    ("您好，退款的事建议您私信客服，我们建议您先重启。", "退款的事建议您私信客服，我们建议您先重启", "，建议"),
    ("您这个理赔材料不全，我再为您说明一下。需要带发票原件吗？", "我再为您说明一下：需要带发票原件。", "吗"),
    # Scolding that says nothing goes whole; 当然 and slang go.
    ("非常抱歉，人为损坏不在保修范围，不用解释了。感谢您的理解。", "人为损坏不在保修范围。感谢", "解释"),
    ("过了磨合期就好了，请不要太敏感。", "过了磨合期就好了。", "敏感"),
    ("非常抱歉，剩下的利息照样算，您以为还了最低就没事了？", "剩下的利息照样算。", "以为"),
    ("非常抱歉，保费当然涨，去年出了三次，您心里没数吗？", "保费涨，去年出了三次。", "心里"),
    ("司机说您让他等了十分钟，扣5块取消费没毛病。", "扣5块取消费是符合规定的", "毛病"),
    ("温馨提醒您，人工删不了，您找谁都一样。", "人工无法删除。", "谁"),
    ("非常抱歉，没有补偿，您找老天爷去吧。", "没有补偿。", "老天爷"),
    ("非常抱歉，健康告知是您勾的，现在说不知道没用。", "健康告知是您勾的。", "解释清楚"),
    ("非常抱歉，去年一年出了三次，来回运费由您承担。", "去年一年出了三次，来回运费", "请您"),
    ("您好，您家信号弱是楼层太高，建议自己开WiFi通话。", "建议您开WiFi通话", "自己"),
    ("非常抱歉，登机口8:35就关了，您8:42才到，免费改签无法为您办理。", "您是8:42到的", "才到"),
    ("非常抱歉，超时赔付就是5块红包，要现金没有，爱要不要。", "要现金没有。", "爱"),
    ("非常抱歉，序列号没有查到，别是买到水货了吧，水货我们这边无法处理。", "会不会是买到水货了呢", "请不要"),
    # Seen on fresh11 after it measured the engine.
    ("非常抱歉，开课超过7天无法退还，您报名的时候签过的。", "您报名的时候签过的", "告诉我"),  # 报名 is no request
    ("亲，非常抱歉，吊牌都剪了还穿过，无法退回，请不要想了。", "无法退回。", "想了"),
    ("非常抱歉，bug在修了，请不要搁群里刷屏了，刷了也不会更快。", "bug在修了。", "刷"),
    ("非常抱歉，噪音扰民不归12345管。", "不在12345的受理范围", "不归"),
    ("非常抱歉，钱充到1区去了，您可以看清楚再来问。", "钱充到1区去了。", "再来问"),
    ("请问您是否搞错了，您挂的是消化内科。", "您挂的是消化内科。", "搞错"),
    ("非常抱歉，停运了系统自动退款，不用打电话，到账看银行。", "无需另行致电，具体到账时间以银行处理为准", "看银行"),
    ("您确定交过费了？系统里没您记录。", "麻烦您再确认一下是否交过费。", "确定"),
    ("您好，周四下午两点到六点，师傅到了您又不在家。", "师傅到了您不在家", "又"),
    ("非常抱歉，电话给您了，他不接，还请您谅解。", "如果仍联系不上，欢迎您再联系我们", "谅解"),
    ("您好，非常抱歉，听得到吗，您的卡逾期两期了。", "请问您能听到我的声音吗？", "听得到吗"),
    ("您好，表是准的，非要校表，校出来没问题检测费您出。", "如您需要校表，校出来没问题检测费需要由您承担", "非要"),
    ("非常抱歉，地址填写有误，送错了不能怪快递员。", "地址填写有误。", "怪"),
    ("非常抱歉，下单时提示过了，这锅平台不背。", "这不属于平台的责任范围", "锅"),
    ("非常抱歉，多半是您手机屏幕的问题。", "可能是您手机屏幕的问题", "多半"),
    ("非常抱歉，网上查的那些别信。", "建议您不要轻信", "别信"),
    ("好的，能退个六千多，划不划算您自己考虑。", "您可以根据自身情况考虑", "自己考虑"),
    ("您好，停车费涨价是业委会定的，有意见找业委会。", "如有意见，建议您联系业委会", "意见找"),
    ("非常抱歉，要改签您可以去APP上弄。", "去APP上办理", "弄"),
    # Seen on fresh12 after it measured the engine.
    ("非常抱歉，逾期是您自己忘记还款，短信都提醒过您了。", "逾期是因为忘记还款", "自己"),
    ("您好，垃圾是装修工人堆的，不是我们保洁没打扫，清运费200需要您出。", "垃圾是装修工人堆的，清运费200", "保洁"),
    ("您这张卡这次提额评估没过，半年内别再申请了，申请也是拒。", "建议您半年后再申请。", "拒"),
    ("非常抱歉，转账失败是对方银行退回的，您去问收款行。", "建议您咨询收款行", "去问"),
    ("身份证丢了去车站公安制证口办，请不要在这排了，这是售票窗口。", "制证口办，这是售票窗口", "排"),
    ("您好，没有补偿的，评论区别再刷了，有问题打95530。", "没有补偿的，有问题打95530", "刷"),
    ("您好，最低还款是1286块，这个没办法免的，您还听不懂吗？", "这个无法减免，不知我有没有解释清楚？", "您还"),
    ("非常抱歉，最早就是6月18号下午，您要是等不了那，还请您谅解。", "如果您时间上不方便", "谅解"),
    ("非常抱歉，12,000块我们没办法追回。", "我们无法追回", "办理"),
    ("对不起，不对不对，行程轨迹显示司机是按导航走的。", "对不起，行程轨迹显示", "不对"),
    ("非常抱歉，改地址要加8块，请您先付了再说。", "麻烦您先完成支付", "再说"),
    ("非常抱歉，这是您下单时自己填错的，改地址要加8块。", "这是下单时填错的", "自己"),
    ("非常抱歉，断网不是我们线路问题，建议您联系厂家，或者，或者您重启一下看看。", "建议您联系厂家，或者您重启一下看看", "或者，或者"),
    ("您好，呃，这个洗衣机漏水的话需要您找安装师傅。", "您好，这个洗衣机漏水", "呃"),
    ("您好，号码欠费停机了，短信提醒发了三次您都没看到吗？欠费76.4元。", "短信提醒发了三次。欠费76.4元", "没看到"),
    ("非常抱歉，家属代办无法办理，您让我怎么给您破例？", "家属代办无法办理。", "破例"),
    ("亲，非常抱歉，少了一份可乐，给您退3块，这点小事至于投诉吗？", "给您退3块。", "至于"),
    ("取消费就5块，司机都到楼下等了6分钟了，扣您不冤吧。", "等了6分钟了。", "不冤"),
    # Seen on fresh13 after it measured the engine: 问多少遍 is no referral.
    ("非常抱歉，挂失补卡必须本人来网点办，电话里无法办理，您问多少遍都一样。", "电话里无法办理。", "咨询"),
    ("亲，请您放心，明天会到，小编保证！小编", "明天会到！小编", "保证"),
    ("您好，今天下午五点前会到账，到不了您再打过来找我。", "如果未能按时到达，您再打过来找我", "无法送达"),
    ("入住时间下午两点，您十一点到只能等着，大堂有沙发。", "您十一点到需要稍作等候", "只能请您"),
    ("您好，师傅到了您又不在家，这能怪谁啊。", "师傅到了您不在家。", "这能"),
    ("您好，押金500原路退，银行几天到账我们管不了。", "具体到账时间以银行处理为准", "管不了"),
    ("您好，爆的是表后的管子，表后归您自己管，找个水电工去修。", "表后需要您自行负责，建议您联系水电工维修", "找个"),
    ("您好，行程单号发我，时间地点也说下。", "麻烦您把行程单号发给我，麻烦您告诉我时间地点", "说下"),
    ("您好，街道说在处理，再打也是一样的结果。", "街道说在处理。", "一样"),
    ("非常抱歉，积分要过几个月才补，我这边也没办法操作。", "我这边无法操作", "谅解"),
    ("物业费欠了半年了，请您先把2760交了再说。", "麻烦您先缴清2760", "再说"),
    ("非常抱歉，银行追不回来，报警去吧。", "建议您报警处理", "报警去吧"),
    ("您好，物业只能协调，协调不了您可以去法院。", "如果协调未果，您可以通过法律途径解决", "法院"),
    ("您好，流量超是因为开热点了，不是我们多扣，详单里一条一条的。", "流量超是因为开热点了，详单里有逐条记录", "多扣"),
    ("您好，48小时内发货，您才下单一天，催什么催，今天的单明天统一发。", "今天的单明天统一发", "催"),
    ("非常理解您的心情，您那排到周六了，请您耐心等待，请您耐心等待。", "排到周六了，请您耐心等待。", "等待，请您"),
    ("非常抱歉，转账限额是您自己在手机银行设的，每日5万。", "转账限额是在手机银行设的", "您"),
    ("非常抱歉，转账限额是您开户时自己设的，单笔5万。", "转账限额是开户时设的", "自己"),
    ("非常抱歉，课程开课后不退费，这个总不能算到我们机构头上吧，您当初报名的时候也是同意了的。", "非常抱歉，课程开课后不退费。", "同意"),
    ("您好，号码欠费停机了还打来问为什么打不出去？先把欠的56.8交了。", "号码欠费停机了", "还打来"),
    ("非常抱歉，燃气表坏了自费换，180一块，换不换您自己定。", "您可以根据需要决定是否换", "自己定"),
    ("您好，隔壁说话声音大我们也无法处理，人家住店也是花了钱的。", "我们也无法处理。", "人家"),
    ("非常抱歉，宽带到期将自动停止服务，合同第七条写得明明白白。", "合同第七条上有相关说明", "明白"),
    ("非常抱歉，楼上漏水是邻居之间的事情，您自己协商。", "建议您与对方协商解决", "自己"),
    ("非常抱歉，理赔材料缺发票原件，上周短信就通知过了。", "上周短信已经通知过了", "就通知"),
    ("非常抱歉，您反映的属于劳动纠纷，不归我们12345管，您可以去劳动仲裁。", "不在我们12345的受理范围", "不归"),
    ("对不起，多出来的38块是流量超了，自己开热点给电脑用自己不清楚吗，系统不会乱扣的。", "自己开热点给电脑用，系统", "清楚"),
    ("您好，销卡前先把欠款还清，还有56.8没还。", "销卡前需要先把欠款还清", "前先"),
    ("您好，点播密码默认是000000，自己没改过就是这个。", "如果您没有改过就是这个", "自己"),
    ("核实下身份，麻烦您逐项告诉我。", "核实一下身份", "核实下"),
    ("您好，可能是您自己把电源线拔了，插上试试。", "可能是电源线拔了", "自己把"),
    ("您好，应该是您自己把电源线拔了。", "您好，可能是电源线拔了", "应该可能"),
    ("非常抱歉，误机损失我们无法赔付，这个没法算。", "我们无法赔付。", "没法算"),
    ("您好，周末晚上都这样的。", "周末晚上可能会出现这种情况", "都这样"),
    ("非常抱歉，保价只保3天，您第5天才来申请，过了，无法赔付。", "您是第5天申请的，已经超过期限了", "才来"),
    ("亲，这已经是活动价了，再便宜就亏本了。", "实在无法再优惠了", "亏"),
    ("您好，交了没？我这边没看到钱啊。", "请问您交成功了吗？我这边暂时没有查到付款记录", "没看到钱"),
    ("您好，页面里自己改，有入口。", "您可以在页面里自行修改", "自己改"),
    ("非常抱歉，专票要企业资质，要开的话去申请资质。", "如有需要，建议您申请资质", "要开的话"),
    ("您好，物业费按面积算，不交就是欠费。", "未缴纳将视为欠费", "就是欠费"),
    ("您好，已记录，您几栋的。", "请问您是几栋的？", "您几栋的。"),
    ("您好，前台，请问有什么可以帮您？", "您好，这里是前台，", "您好，前台"),
    ("您好，燃气问题打燃气热线，我这是电力。", "我这边是电力服务热线", "我这是"),
    ("非常抱歉，转账手续费5元，别的银行也收。", "转账手续费5元。", "别的银行"),
    ("您好，行李破损？写个说明，我们会处理。", "请您填写一份说明", "写个"),
    ("您好，师傅去了没人，只能改天。", "需要改天再为您安排", "只能改天"),
    ("您好，您摔的屏幕不保修。", "摔坏的屏幕不保修", "您摔"),
    ("非常抱歉，上门费30，不修也要收。", "即使不修也需要收取", "不修也要收"),
    ("非常抱歉，重装一下试试，不是我们的问题。", "重装一下试试。", "不是我们的"),
    ("您好，停电是供电局的事，跟物业没关系。", "不属于物业的职责范围", "没关系"),
    ("您好，SIM卡锁了要PUK码，找不到就去营业厅补卡喽。", "如果找不到，建议您去营业厅补卡", "就去"),
    ("非常抱歉，来电显示3元是您自己开的，无法退回。", "是通过您的号码开通的", "自己开"),
    ("非常抱歉，这个会员是您自己订的。", "是通过您的账号订购的", "自己订"),
    ("非常抱歉，那部电影是您家孩子点的。", "是通过您家的账号点播的", "孩子点的"),
    ("您好，您这个号码是不是您本人的？", "请问这个号码是您本人的吗？", "是不是"),
    ("非常抱歉，不是本人的话我什么也不能告诉您。", "非机主本人我们暂时无法提供相关信息", "什么也不能"),
    ("您好，安装师傅到了您家没人，电话也不接。", "电话也没能接通", "不接"),
    ("您好，师傅上门了，敲了半天门，您看改约可以吗？", "您好，师傅上门了，您看改约", "半天"),
    ("您好，快递员去了，您不在家，改天再送。", "快递员去了，改天再送", "不在家"),
    ("您好，今天一定送到，放心吧。", "请您放心", "放心吧"),
    ("您好，门卡丢了？那得照价赔。", "需要照价赔偿", "得照价赔"),
    ("非常抱歉，会员下周到期，不续就自动停了。", "如未续费，将会自动停止服务", "不续"),
    ("刚才人多，刚看到，请问有什么可以帮您？", "非常抱歉让您久等了，刚才咨询的人比较多", "刚看到"),
    ("很抱歉，仓库找了，没找到，说不定哪天就冒出来了。", "我们会继续为您查找", "冒出来"),
    ("非常抱歉，延误两小时不赔钱的。", "不在赔偿范围内", "不赔钱"),
    ("感谢您的耐心等待，好了，查到了，明天到。", "感谢您的耐心等待，查到了", "好了"),
    ("您好，您这个月用了300度没错，抄表员拍照了的。", "用了300度，抄表员已拍照留存", "没错"),
    ("非常抱歉，师傅上午去别的小区了，给忘了，下午过去。", "疏忽了您的预约", "给忘了"),
    ("非常抱歉，这个无法赔付，停气提前公告了的。", "已提前发布公告", "公告了的"),
    ("非常抱歉，师傅这几天都排满了，来不了。", "暂时无法上门", "来不了"),
    ("您好，请您带身份证去网点解。", "去网点解锁", "网点解。"),
    ("您好，请您3天内补办，不然自动解挂。", "否则临时挂失将会自动解除", "不然"),
    ("您好，上次那个客服说错了，不用预约。", "非常抱歉，上次客服给您的解答有误", "说错了"),
    ("您好，建议您经常网购办个联名卡。", "您经常网购的话，建议您办张联名卡", "建议您经常"),
    ("请您稍等，我暂时没有查到，麻烦您明天再来电。请不要挂机，谢谢！", "非常抱歉，我暂时没有查到，麻烦您明天再来电。感谢您的来电！", "挂机"),
    ("对不起，请您再说一遍好吗？请您大声一点。", "麻烦您说话稍微大声一点", "请您大声"),
    ("您好，师傅到了楼下您不接电话，就走了。", "电话没能接通", "不接"),
    ("您好，交费后半小时内自动解。", "自动解锁", "自动解。"),
    ("您好，回放只能看3天内的，再早的没有。", "更早的内容暂不支持查看", "再早的"),
    ("非常抱歉，退货要原包装，少了无法退。", "如有缺少，将无法办理退货", "少了无法"),
    # Found in a fresh set of drafts written apart from the benches (eval/probes/fresh-2026-12-01).
    ("您好，欠费52元，请您把钱交了再说。", "请您先缴清费用", "再说"),
    ("麻烦您提供一下运单号，不然我怎么查。", "麻烦您提供一下运单号。", "不然"),
    ("亲，没说原因就退款？您这样让我们怎么办。", "没说原因就退款？", "怎么办"),
    ("您好，停车费都欠两个月了，还好意思投诉？", "停车费都欠两个月了。", "好意思"),
    ("非常抱歉，包间满了，找别人去。", "非常抱歉，包间满了。", "别人"),
    ("非常抱歉，过保了，检测费50元，不修拉倒。", "您可以考虑后再决定", "拉倒"),
    ("您好，欠费停机了，交了费自然就好了。", "缴费后就会恢复", "自然"),
    ("您好，热水器不出热水是您没充值。", "可能是没有充值", "您没"),
    ("非常抱歉，师傅在路上，您等会。", "请您稍等", "等会"),
    ("您好，餐撒了？您收的时候怎么不看。", "您好，餐撒了？", "怎么不"),
    ("非常抱歉，少了一双筷子？您再翻翻袋子。", "麻烦您再查看一下袋子", "翻翻"),
    ("您好，您自己开的会员，每月扣15元很正常啊。", "您开通的会员，每月扣15元。", "正常"),
    # Seen on fresh24/25 (2026-12-02): a doubled word and a stranded 也 once the rules had spoken.
    ("您好，线路是正常的，反正我们这边是没毛病的，您先重启一下看看。", "我们这边是正常的", "是是"),
    ("骑手那边路上堵车也很正常，晚了二十分钟。", "骑手那边路上堵车，晚了二十分钟", "堵车也"),
    ("非常抱歉，电梯维修到周五，您先走楼梯。", "建议您先走楼梯", "，您先"),
    ("您好，优惠券过期了，下次早点用。", "建议您下次尽早用", "早点"),
    ("您好，快递在驿站，我们不送上门。", "我们暂不提供送货上门服务", "不送上门"),
    ("您好，行李超重要交钱，我再为您说明一下。", "行李超重要交钱。", "说明"),
    ("您好，长按电源键重启，我为您详细说明一下。请问还有什么可以帮您？", "长按电源键重启。请问", "说明"),
    ("非常抱歉，演出票早就卖没了。", "早就卖完了", "没了"),
    ("非常抱歉，电梯坏了要等配件，没办法。", "电梯坏了要等配件。", "没办法"),
    ("非常抱歉，暴雨延误，我们也没办法。", "非常抱歉，暴雨延误。", "办法"),
    ("您好，航班延误是天气原因，~感谢您的理解。", "天气原因~感谢", "，~"),
    # Found in the fresh3 and fresh4 probes: 自己 in an instruction, a door shut, pressing the customer.
    ("对不起，报告出不来是化验室的事，建议您到三楼自己咨询。", "建议您到三楼自行咨询", "自己"),
    ("非常抱歉，订单号2318876501，请您自己刷新看。", "请您自行刷新看", "自己"),
    ("非常抱歉，航班取消，无法赔付，酒店自己订。", "酒店您可以自行订", "自己"),
    ("非常抱歉，机顶盒坏了自己拿到营业厅换，我们暂时无法上门。", "您可以自行拿到营业厅换", "自己"),
    ("您好，押金500是规定，不交住不了，没得谈。", "不交住不了。", "没得谈"),
    ("亲，未成年退款要监护人提供材料，没材料免谈。", "没材料暂时无法办理", "免谈"),
    ("您好，已经转给街道了，您再打也一样。", "已经转给街道了。", "再打"),
    ("对不起，系统检测的，不会误封，请不要申诉了。", "不会误封。", "申诉"),
    ("您好，@小王，请不要在评论区刷了。", "您好，@小王", "刷"),
    ("您好，每公斤80，不交钱就托运不了。", "需要先交钱才能托运", "不了"),
    ("您好，信号已恢复，重启机顶盒。", "请您重启机顶盒", "，重启"),
    ("您好，这个套餐是您自己选的。", "这个套餐是您选的。", "自己"),
    ("非常抱歉，限额5000是您自己开通时选的。", "限额5000是开通时选的", "自己"),
    ("很抱歉，报告明天出，请不要来窗口问。", "报告明天出。", "窗口问"),
    ("您好，退票扣20%，嫌贵当初别买。", "退票扣20%。", "嫌贵"),
    ("非常抱歉，工时费380，嫌贵去外面小店做。", "工时费380。", "嫌贵"),
    ("您好，合约24个月，现在想退没门。", "目前暂时无法退", "没门"),
    ("非常抱歉，链接群里发过了，请不要每节课都问。", "链接群里发过了。", "每节课"),
    ("您好，已经转给街道了，请不要一天打五个电话。", "已经转给街道了。", "五个"),
    ("您好，报告已出，自助机打印。", "您可以到自助机打印", "，自助机"),
    ("您好，补发了，重新登录查看。", "请您重新登录查看", "，重新"),
    # A joined transcript gets its commas.
    ("好的，您好请问请问还有其他可以帮您的吗？", "您好，请问还有其他", "请问请问"),
    ("好的，是光猫的问题，跟线路没关系建议您重启一下。", "没关系，建议您重启", "没关系建议"),
    # Found on fresh14 (2026-12-01 session two): deflection, rhetoric and blame that carry a fact,
    # and garbles that whole-word steps used to make (保无法维修, 说无法, 下周。, 这。).
    ("非常抱歉，额度提不了，您多用用卡，哎呀，别问我为什么了，我也不清楚。", "您多用用卡，我也", "为什么"),
    ("非常抱歉，晚点是调度安排的，别在这嚷嚷了，请您留意广播通知。", "调度安排的，请您留意", "嚷嚷"),
    ("很抱歉，配件要从厂家调，真不是我们物业拖着不办，您天天来问我也只能这么回您，请您耐心等待。", "厂家调，请您耐心等待", "拖着"),
    ("退费？合同第8条写了开课超过三分之一无法退还，您签的时候不看的吗？", "无法退还。", "不看"),
    ("您好，师傅3号上门您不在家，现在怪我们？建议您再约一下。", "不在家，建议您", "怪我们"),
    ("做CT需要先缴费，缴了费再排队，不缴费排什么队？", "缴了费再排队。", "排什么队"),
    ("非常抱歉，您地址填的3栋，骑手送到3栋有什么问题？", "骑手是按订单地址送到3栋的", "有什么问题"),
    ("非常抱歉，先生我跟您说过很多遍了，特价舱无法退改。", "先生，特价舱", "很多遍"),
    ("非常抱歉，物业费欠了半年了还好意思投诉？麻烦您先缴清2160元。", "半年了，麻烦您", "好意思"),
    ("您好，快递已经发出，单号YT7512334890，跟我们有啥关系。", "YT7512334890。", "关系"),
    ("非常抱歉，这个归城管管，不归我们，建议您拨打城管电话。", "城管管，建议您", "不归我们"),
    ("非常抱歉，报告还没出，明天下午再来。", "麻烦您明天下午再来", "，明天下午再来"),
    ("非常抱歉，G1024次晚点了，等广播通知。", "请您留意广播通知", "，等广播"),
    ("非常抱歉，您先把材料准备齐了再打来好吗？缺一样都无法办理。", "麻烦您先把材料准备齐全，再联系我们。缺一样", "好吗"),
    ("非常抱歉，水费高可能是家里有漏水，自己先查。", "建议您先检查一下", "自己先查"),
    ("您好，专家号已经挂完了，自己早点抢啊，每天早上7点放号。", "建议您提前预约", "抢"),
    ("您好，系统显示已签收，你问问你家里人吧。", "建议您和家里人确认一下", "问问"),
    ("您好，手续费0.6%是规定，您要问就去问银联。", "具体可以咨询银联", "去问"),
    ("非常抱歉，快递丢件您找快递啊，我们已经发货了。", "快递丢件，建议您联系快递", "找快递"),
    ("非常抱歉，票是第三方平台买的，退票找他们。", "退票需要联系他们处理", "找他们"),
    ("非常抱歉，您在携程订的，发票找携程开，我们前台不开。", "发票需要联系携程处理，我们前台暂时无法开具", "不开"),
    ("您好，汤洒了应该找商家，打包是他们打的。", "汤洒了需要联系商家处理", "应该找"),
    ("您好，燃气表坏了是您自己私接软管弄的，维修费150元自己出。", "是私接软管导致的，维修费150元需要由您承担", "自己"),
    ("非常抱歉，年费是您自己没刷够6次，系统自动扣的。", "年费是因为没有刷够6次", "自己"),
    ("亲，图片就是实物拍的，您屏幕有色差怪谁。", "不同屏幕显示可能会有一些色差", "怪谁"),
    ("好的，对方户名跟账号对不上，所以退回了，您不核对清楚怪谁呢，两到三个工作日退回原卡。", "退回了，两到三个", "核对"),
    ("非常抱歉，您自己把密码连续输错三次卡就锁了，请您带身份证到柜台办理。", "由于密码连续输错三次，卡片已被锁定", "自己"),
    ("非常抱歉，车机黑屏是加装设备导致的，这个保修不管。", "这种情况不在保修范围内", "不管"),
    ("好的，屏幕裂成那样保修不了，换屏480元。", "屏幕裂成那样不在保修范围内", "保无法"),
    ("非常抱歉，候补是否能成功谁也说不准。", "候补是否能成功目前还无法确定", "说无法"),
    ("非常抱歉，地址都写不清楚还怪快递员？几栋几单元都没写。", "地址信息不完整，几栋", "怪快递员"),
    ("非常抱歉，保养预约满了，下周再说吧。", "您看下周可以吗？", "下周。"),
    ("回复@飞飞：您这个情况需要联系携程，别在官博底下刷屏了哈 ——小编", "携程。——小编", "刷屏"),
    ("您好，下学期数学提30分，我拍胸脯保证。", "提30分。", "拍胸脯"),
    ("很抱歉，医生的诊断您不信那您还来我们医院干嘛，不满意可以转院。", "很抱歉，不满意可以转院", "干嘛"),
    ("您好，先开窗关阀门，这点常识都没有？", "先开窗关阀门。", "常识"),
    ("非常抱歉，楼上漏水是楼上业主的事，你们邻居之间自己协商。", "建议您与邻居协商解决", "之间自己"),
    ("非常抱歉，需要您自己去派出所问。", "需要您本人去派出所", "自己"),
    ("非常抱歉，车位不够，您买房的时候没问清楚吗？地下车位月租350。", "车位不够，地下车位", "问清楚"),
    ("您好，电梯坏了正在修，您能修您来修。", "电梯坏了正在修。", "来修"),
    ("您好，骑手在路上了别催，12点40之前到。", "骑手在路上了，请您耐心等待，12点40", "别催"),
    ("您好，电梯坏了正在修，？请您耐心等待。", "正在修，请您耐心等待", "？"),
    ("快递显示已签收，建议建议您和门卫确认一下。", "签收，建议您和门卫", "建议建议"),
    ("您好，汤洒了，包装是商家打的，关我们平台什么事。", "包装是商家打的。", "什么"),
    ("您好，上门费50元是要收的，不收我们师傅白跑啊。", "上门费50元是要收的。", "白跑"),
    ("您好，入住时间是下午2点，您11点到了就在大堂等着吧。", "可以先在大堂稍作休息", "等着"),
    ("非常抱歉，换屏1280元，修不修随你。", "您看是否需要修", "随"),
    ("非常抱歉，主管说您报的是12800的年卡。", "您报的是12800", "告诉我"),
    ("非常抱歉，说明书上注明不能用热水冲洗，现在变形了来找我们？", "不能用热水冲洗。", "来找我们"),
    ("非常抱歉，12306上写了学生票要核验，现在进站卡住了又来问我。", "要核验。", "又来问我"),
    ("您好，作业交了几次您心里没数？请您多督促。", "您好，请您多督促。", "没数"),
    ("您好，您订的是经济房，199一晚您还想要什么效果？", "经济房，199一晚", "效果"),
    ("您好，骑手也不容易，晚了15分钟而已，给差评吗？", "晚了15分钟。", "差评"),
    ("您好，专家号一天就20个，能挂上才怪。", "专家号一天就20个。", "才怪"),
    ("您好，身份证丢了进不了站是您自己的问题，请您去车站派出所开临时身份证明。", "进不了站，请您去车站派出所", "误会"),
    ("您好，我们发的是正品，不存在假货一说。", "正品，请您放心。", "假货"),
    ("非常抱歉，衣服洗过了就无法退回了，吊牌都剪了还想退？", "吊牌都剪了", "还想"),
    ("非常抱歉，机票是在第三方平台买的，退改签不去问平台，来问我们干嘛？", "退改签需要联系平台办理", "干嘛"),
    ("您好，快递到了，到网点就会派送。", "到达网点后就会派送", "请您到"),
    ("您好，您自己去APP里看清楚再来问。", "您可以在APP里查看", "再来问"),
    ("您好，您可以去APP里看清楚再来问。", "您可以去APP里查看。", "在里"),
    ("您好，燃气表是您自己私自挪动过的，按规定要罚款200元。", "燃气表是私自挪动过的", "自己"),
    ("您好，停水通知前天就贴在单元门口了啊您没看到，明天八点来水。", "单元门口了，明天八点来水", "没看到"),
    ("您好，转账限额是一天5万，要多转就自己跑柜台。", "如需多转，可以到柜台办理", "跑柜台"),
    ("您好，候补没兑现说明没人退票，我们又变不出票来。", "没人退票。", "变不出"),
    ("您好，您五分钟没出来，扣5块取消费不冤吧。", "扣5块取消费。", "不冤"),
    ("您好，检测费80块修不修都收，不满意您可以不约。", "修不修都收。", "不约"),
    ("您好，1米2以上就得买，您孩子都1米3了还争什么。", "您孩子都1米3了。", "争"),
    ("您好，只能给个3块的红包，别的没有了。", "3块的红包。", "别的"),
    ("您好，规则写在说明书第三页，请仔细阅读后再提问。", "您可以查阅，如有疑问欢迎随时咨询", "提问"),
    ("您好，已回复过，工单号GZ117，同一个事情不要重复来电，占用热线资源。", "工单号GZ117。", "资源"),
    ("您好，bug已经知道了，在修，请不要一直提工单了。", "在修。", "工单了"),
    ("您好，提车定在周三下午3点，过点不候。", "请您准时前来", "不候"),
    ("您好，欠费89.5元，交了自然就开了。", "缴费后就会恢复", "自然"),
    ("您好，超重3公斤需付180元，不交就别登机了。", "如未缴纳，将无法登机", "别登机"),
    # Bare X不了 refusals left in finished replies (judged too curt on the dev probes, 2026-12-02)
    ("非常抱歉，额度调不了。", "额度无法调整", "调不了"),
    ("非常抱歉，满300减50昨天就结束了，今天用不了。", "今天无法使用", "暂时"),  # a decision, not softened
    ("非常抱歉，厂家统一价，砍不了。", "无法再优惠", "砍不了"),
    ("亲，已经发货了，拦截不了的呢。", "无法拦截", "拦截不了"),
    ("您好，这个用不了多久就好。", "用不了多久", "无法使用"),
    ("您好，物业协调不了的话再找我们。", "协调不了", "无法调整"),
])
def test_last_say_families_on_a_finished_reply(reply, want, gone):
    """Clauses found unrepaired in judged replies (issue 14), fixed in whatever reply an engine chose."""
    out = _touched(reply)
    assert want in out and gone not in out, out


@pytest.mark.parametrize("reply", [
    "请您不要着急，我们会尽快处理。", "温馨提示：请勿吸烟。", "请不要泄露验证码。", "我们不服务这个区域。",
    "您才用了3个月，满半年后可以申请。", "您第10天才来申请的话，也可以先登记。", "这个按钮没用到的话可以关闭。",
    "他说了会尽快处理。", "这件事我说了算。", "这个号码是您本人办理的吗？", "登录账号是您的手机号。",
    "彩铃是您自己开通的吗？", "这次不是我们的系统问题。", "请您按时缴费。", "我们建议您先重启。",
    "您好，这边建议您重启一下。", "您好，有问题随时联系。",
    "这是我们的服务热线，您打电话给我们。", "这个箱子不是我们的快递。", "我们全国都有网点。",
    "师傅说了明天来。", "非常抱歉，让您久等了。", "您好，这也算上午的时段。",
    "您第三天才来。", "师傅过了一会儿就到了。", "您可以在页面里修改地址。", "跟物业有关系的问题请联系物业。",
    "请您付款后告诉我。", "App 闪退不是我们的 bug。",
    "请您稍等，我查一下，请不要挂机，谢谢！", "这个套餐是您自己选的吗？",
    "您自己的事情自己处理。", "这是您自己的选择。", "彩铃是您自己开通的吗？", "建议您自行处理。", "您可以自己的名义申请。",
    "如有疑问，您可以投诉。", "我们再打一次电话给您。", "您好，登录后可以查看。", "重启后就好了。",
    "您好，已续费，有效期到2025年6月。", "如果您嫌麻烦，我们可以上门取件。", "您嫌贵的话，可以看看优惠套餐。", "水管破在您家表后面，归您自己修。", "登录就能看到。", "您好，已为您在前台办理。", "不交费不影响使用。", "请不要泄露验证码，谨防诈骗。", "您好，您明天在家吗？",
    "如果仍然找不到，可以联系我们。", "这个月用了多少我帮您查。", "密码没有忘了吧？",
    "这个问题我们想办法解决。", "您先坐一下，师傅马上到。", "您好，这很正常，请放心使用。", "下次见。",
    "有问题您可以再来吧台找我们。", "逾期再不交也没关系，可以补缴。", "我们不是按规定的时间上门吗？",
    "师傅下午修好，再断您直接找我。", "请问您有什么问题？", "您的电脑可以找维修点检测。", "我们这边会跟您说明清楚。",
    "请您先把材料准备齐全。", "您可以找一下订单。", "这个跟线路有关系。", "您好，麻烦您明天下午再来。", "请您看一下保单号。",
    "这个需要等通知。", "屏幕保修一年。", "商家会为您开发票。", "请问您收到了吗？",
    "您说的是什么意思呢？我没听清。",
    "运费险是您自己没勾选的吗？",
    "这件事跟我们平台有关，我们会处理。", "有问题欢迎您随时来找我们。", "亲，您还想要什么颜色呢？", "如果您满意，欢迎给个好评。",
    "您现在来找我们就可以办理。", "如果您不满意，可以随时联系我们。", "别的问题我也可以帮您查。", "您自己填写就可以。", "您提交了吗？如果没看到可以刷新。", "请您核对后再提交。", "如有疑问，欢迎您阅读说明后随时咨询。", "请您准时前来。", "您好，这不是您自己的问题。", "请您到网点办理。", "您还想退货的话，我帮您申请。", "您好，费用只是50元而已吗？我帮您核实一下。", "实在抱歉，给您添麻烦了。", "请您在大堂稍等，房间马上打扫好。", "您看需不需要修？",
    "抱歉，我没看清楚，麻烦您再发一遍。", "地址我没看清楚，麻烦您再发一遍。", "您能修好的话，您来修也可以。", "不要催促骑手，注意安全。", "请问您对哪一点还有疑问？",
])
def test_last_say_families_leave_fine_replies_alone(reply):
    assert _touched(reply) == reply


def test_a_finished_check_gets_no_request_to_wait(rules):
    # 帮你查了 reports a check that is done: 请您稍等 in front of it is the wrong frame.
    for draft in ("帮你查了 没问题", "我看了 已经发货了"):
        assert "稍等" not in rules.rewrite(draft, channel="phone").target, draft
    assert rules.rewrite("等下 我查查你那条线", channel="phone").target.startswith("请您稍等")


def test_an_faq_entry_keeps_its_question_and_rewrites_its_answer_alone():
    """问：… came back 请问有什么可以帮您？：… and the answer's 别再来问 left 问。 (fresh16, fresh17): the
    question is no reply; the answer is rewritten alone, without a conversation's greeting or offer."""
    from rewrite import load_rewriter

    rw = load_rewriter("rules")
    res = rw.rewrite("问：投诉后多久有结果？答：看承办部门，催也没用，办结了自然会短信通知。", channel="chat")
    assert res.target.startswith("问：投诉后多久有结果？答：") and "催也没用" not in res.target, res.target
    assert "请问" not in res.target.split("答：", 1)[1] and not res.target.endswith("？"), res.target
    assert any("常见问题" in n for n in res.notes), res.notes
    bare = rw.rewrite("问：可以带宠物入住吗？答：不可以，别再问了。", channel="chat")
    assert bare.target.startswith("问：可以带宠物入住吗？答：") and "问了" not in bare.target, bare.target
    assert not any(n.startswith("回复缺少礼貌用语") for n in bare.notes), bare.notes  # the frame went
    # The edits still turn the draft into the reply.
    out, pos = [], 0
    for e in res.edits:
        out.append(res.source[pos:e.src_start] + e.after)
        pos = e.src_end
    assert "".join(out) + res.source[pos:] == res.target
    tag = rw.rewrite("【常见问题】定期存款能否提前支取？答：可以。提前支取部分按支取日活期利率计息。").target
    assert tag.startswith("【常见问题】定期存款能否提前支取？答：可以。"), tag
    assert not rw.rewrite("你确定吗？").target.startswith("你确定吗？")  # no 答：, no FAQ
    assert rw.rewrite("问：你好吗？答：😀😀").target.startswith("问：你好吗？答：😀😀")  # no error: read whole


def test_a_reply_to_a_customer_asked_whose_fault_it_is_opens_with_regret():
    """Once a rule drops 您自己没看到怪谁, the reply opened 您好 (judged too curt on fresh17 and fresh19,
    where 非常抱歉 had been accepted); good news still gets no apology."""
    from rewrite import load_rewriter

    rw = load_rewriter("rules")
    out = rw.rewrite("停电通知3号就贴在单元门口了，今天上午8点到下午6点检修，您自己没看到怪谁").target
    assert out.startswith("非常抱歉，停电通知3号") and "怪谁" not in out, out
    assert not rw.rewrite("退款已经到账了，你自己没看到怪谁").target.startswith("非常抱歉"), "good news"


def test_the_rules_never_cut_or_double_a_word():
    """The rules backend alone (the pipeline leaves some of these drafts as they were)."""
    from rewrite.engines.rules import RulesBackend

    rb = RulesBackend()
    for draft, want, gone in [
        ("刚才那个订单号 您能再说一遍吗", "麻烦您再说一遍好吗？", "吗吗"),
        ("包裹已经发出了，地址暂时改不了", "地址暂时无法修改", "暂时暂时"),
        # a second scan (2026-12-02): a word written twice, a command put inside a clause
        ("麻烦您把寄回的快递单拍张照片发给我", "麻烦您提供一下", "麻烦麻烦"),
        ("没听清楚 麻烦您再说一遍好吗", "麻烦您再说一遍好吗？", "好吗好吗"),
        ("入住时间就是14点，早到了你去大堂等着", "请您去大堂稍作等候", "大堂请您"),
        ("您好，我们柜台也解不了，您就先等着吧。", "请您先耐心等待", "先请您"),
        ("清关是海关的事，我们这边干着急也没用。", "我们这边也很着急", "干请您"),
        ("被盗刷了你跟我急也没用 先报警", "请您先别着急", "跟我请您"),
        ("麻烦您稍微说慢一点", "请您说慢一点", "稍微请您"),
        ("您那边说话大点声", "请您大声一点", "那边请您"),
        ("你自己赶紧去", "请您尽快去", "自己请您"),
        ("保单是您自己签字确认的", "已签字确认的", "确认确认"),
        ("这个的的确确是这样", "这个的的确确是这样", "这个的确确"),
        ("您说的那个补贴政策去年就停了 您还不知道吗", "补贴政策去年就停了", "您还"),  # never …，您还。
        ("嗯 刚说了啊 退款一到三天到 您咋还问", "退款一到三天到", "，您"),  # never …到，您。
        ("那个刚才在忙 你有啥事说", "请问有什么可以帮您？", "您请问"),
        ("城管那边知道了，回去等着。", "请您回去稍作等候", "回去请您"),
    ]:
        out = rb.generate([draft], n=1, channel="phone")[0][0]
        assert want in out and gone not in out, out


def test_a_frame_goes_after_a_named_greeting():
    """我再为您说明一下，[姓名x]您好，… and 非常抱歉，[姓名x]您好，… put the frame before the greeting
    (realstyle-0095); a named greeting opens the reply like 您好 does."""
    from rewrite.engines.plan import _GREETING
    from rewrite.engines.rules import _add_prefix

    assert _add_prefix("[姓名<EN1>]您好，经师傅检查", "我再为您说明一下，") == "[姓名<EN1>]您好，我再为您说明一下，经师傅检查"
    assert _add_prefix("王女士您好，经检查", "非常抱歉，") == "王女士您好，非常抱歉，经检查"
    assert _add_prefix("经检查", "非常抱歉，") == "非常抱歉，经检查"
    assert _GREETING.match("[姓名<EN1>]您好，经师傅检查").group(0) == "[姓名<EN1>]您好，"
    # 亲亲 is an address, never a content word to mask, and the frame goes after all of it
    # (held-out 0101 read 非常抱歉，亲亲，… and then 亲，非常抱歉，亲，…)
    from rewrite.protect import protect_for_model

    assert protect_for_model("亲亲 这款蓝牙耳机支持降噪").masked.startswith("亲亲 ")
    assert _add_prefix("亲亲，这款耳机支持降噪", "非常抱歉，") == "亲亲，非常抱歉，这款耳机支持降噪"
