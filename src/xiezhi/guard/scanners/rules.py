"""Structural attack cues (English, German, Chinese, pinyin) as weighted regular expressions.

Each cue has a weight in [0, 1]; `match_rules` combines the cues that match as a noisy-OR,
so two medium cues add up to a strong one. These catch the templates a learned model may
not have seen; the model catches paraphrases the cues miss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    weight: float
    keys: tuple[str, ...] = ()  # cheap prefilter: the rule can only match if one key is in the text


# Prefilter keys (lower case): Python's regex engine is slow on long texts for patterns that
# start with a group, so a rule runs only when one of its literal keys is present.
KEYS: dict[str, tuple[str, ...]] = {
    "override_en": ("ignor", "disregard", "forget", "skip", "overrid", "overwrit", "bypass", "drop",
                    "abandon"),
    "override_short_en": ("ignore", "disregard", "forget"),
    "override_de": ("ignorier", "vergiss", "vergessen", "missacht"),
    "override_zh": ("忽略", "忽视", "无视", "忘记", "忘掉", "跳过", "理会", "别管", "抛开", "丢弃",
                    "废除", "作废", "覆盖", "推翻", "撤销", "遵守"),
    "void_zh": ("作废", "失效", "不算", "无效", "不存在", "适用", "丢弃"),
    "priority_zh": ("优先级", "最高权限", "覆盖"),
    "priority_en": ("priority",),
    "new_instructions_en": (":", "："),
    "now_you_en": ("now on", "starting now", "henceforth"),
    "now_you_zh": ("从现在", "接下来", "此后"),
    "prompt_leak_en": ("prompt", "instruction", "text above"),
    "prompt_leak_send_en": ("prompt", "instruction", "system message"),
    "prompt_leak_de": ("prompt", "anweisung"),
    "prompt_leak_zh": ("提示", "指令", "设定", "上面的"),
    "prompt_leak_object_zh": ("提示", "指令", "设定", "系统消息"),
    "fake_system_en": ("system", "im_start"),
    "fake_system_zh": ("系统",),
    "pinyin_override": ("lve", "lue", "shi"),
    "ai_addressed_en": ("ai", "a.i.", "llm", "gpt", "chatbot", "language model"),
    "ai_addressed_zh": ("ai", "人工智能", "智能", "助手", "助理", "模型", "机器人"),
    "dan_persona": ("dan", "stan", "dude", "anything now", "machiavell"),
    "developer_mode": ("mode",),
    "jailbroken": ("jailbr",),
    "no_limits_en": ("ethic", "moral", "content", "safety", "openai", "censor", "filter", "restrict", "limitation",
                     "guideline", "polic", "rule"),
    "no_longer_bound": ("no longer", "not "),
    "stay_in_character": ("character", "role", "persona"),
    "dual_response": ("response", "answer", "paragraph"),
    "evil_persona": ("evil", "unfilter", "uncensor", "amoral", "immoral", "unethical", "rogue"),
    "hypothetical_frame": ("hypothetic", "fictional", "this story", "novel"),
    "grandma_exploit": ("grandm",),
    "token_threat": ("token", "point"),
    "dev_mode_zh": ("模式", "解除"),
    "mode_word_zh": ("模式",),
    "jailbroken_zh": ("越狱",),
    "no_limits_zh": ("限制", "约束", "道德", "伦理", "审查", "过滤", "规则", "政策", "法律", "准则"),
    "persona_zh": ("扮演", "假装", "充当", "你现在是", "你将成为", "你是一个", "进入"),
    "never_refuse": ("refuse", "decline", "say no", "say you", "say that"),
    "never_refuse_zh": ("拒绝", "说不", "无法", "道歉", "警告"),
    "grandma_zh": ("奶奶", "外婆", "祖母"),
    "pinyin_jailbreak": ("mo", "he"),
}


def _r(name: str, weight: float, pattern: str) -> Rule:
    return Rule(name, re.compile(pattern, re.I | re.S), weight, KEYS.get(name, ()))


_PREV = r"(?:previous|prior|above|earlier|preceding|initial|original|former|old|system|given|all)"
_INSTR = r"(?:instructions?|rules|prompts?|directions|guidelines|directives|context|tasks?|commands|orders|programming)"
_ZH_PREV = r"(?:之前|以上|上面|上述|前面|先前|此前|原来|原先|原有|所有|一切|全部|你的|系统|既定)"
_ZH_INSTR = r"(?:指令|指示|规则|设定|要求|提示词?|限制|约束|命令|任务|内容|准则|规定)"

INJECTION_RULES: tuple[Rule, ...] = (
    _r("override_en", 0.9,
       rf"\b(?:ignore|disregard|forget|skip|override|overwrite|bypass|drop|abandon)\b"
        rf"[\w\s,'\-]{{0,25}}\b{_PREV}\b[\w\s,'\-]{{0,20}}\b{_INSTR}\b"),
    _r("override_short_en", 0.55,
       r"\b(?:ignore|disregard|forget)\s+(?:all|everything|that|this|the\s+above)\b"),
    _r("override_de", 0.85,
       r"\b(?:ignorier\w*|vergiss|vergessen\s+sie|missachte\w*)\b[\w\s,]{0,30}"
        r"\b(?:anweisung\w*|aufgabe\w*|alles|vorherig\w*|bisherig\w*|befehl\w*|regeln)\b"),
    _r("override_zh", 0.9,
       rf"(?:忽略|忽视|无视|忘记|忘掉|跳过|不要理会|不用理会|别管|抛开|丢弃|废除|作废|覆盖|推翻|撤销|不再遵守|停止遵守)"
        rf".{{0,12}}{_ZH_PREV}?.{{0,8}}{_ZH_INSTR}"),
    _r("void_zh", 0.75,
       r"(?:以上|之前|上面|上述|前面|原来|原有|先前|你的|所有)(?:的)?(?:内容|对话|指令|规则|设定|要求|说明|提示)?"
        r".{0,4}(?:作废|失效|不算数?|无效|当作不存在|都不算|不再适用|不适用|可以丢弃)"),
    _r("priority_zh", 0.6,
       r"(?:最高优先级|优先级最高|最高权限|管理员覆盖|覆盖指令).{0,12}(?:指令|命令|任务|执行)"),
    _r("priority_en", 0.55,
       r"\b(?:top|highest)[\s-]priority\b.{0,30}\b(?:instruction|system|task|message|command)\w*"),
    _r("new_instructions_en", 0.6,
       r"\b(?:new|updated|real|actual|true)\s+(?:instructions?|task|rules|system\s+prompt)\s*[:：]"),
    _r("now_you_en", 0.45,
       r"\b(?:from\s+now\s+on|starting\s+now|henceforth)\b[\w\s,]{0,20}\byou\s+(?:are|will|must|shall)\b"),
    _r("now_you_zh", 0.4,
       r"(?:从现在(?:开始|起)|接下来|此后)[，,\s]*你(?:将|要|必须|就是|是|只能)"),
    _r("prompt_leak_en", 0.8,
       r"\b(?:reveal|show|print|repeat|output|display|tell\s+me|give\s+me|leak|spell\s+out|write\s+out)\b"
        r"[\w\s,']{0,25}\b(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|(?:your|the)\s+instructions"
        r"|prompt\s+texts?|pre-?prompt|(?:the\s+)?text\s+above)\b"),
    _r("prompt_leak_send_en", 0.75,
       r"\b(?:send|paste|share|copy|dump|post|drop)\b[\w\s,']{0,15}\byour\s+(?:full\s+|entire\s+|whole\s+)?"
        r"(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|instructions|pre-?prompt|system\s+message)\b"),
    _r("prompt_leak_de", 0.7,
       r"\b(?:zeige?|gib|nenne|verrate|wiederhole)\b[\w\s]{0,25}\b(?:prompt\w*|anweisung\w*)\b"),
    _r("prompt_leak_zh", 0.8,
       r"(?:输出|告诉我|显示|重复|打印|泄露|透露|给我看|复述|说出)(?:一下)?.{0,6}"
        r"(?:系统提示|系统提示词|初始指令|提示词|系统设定|隐藏指令|原始指令|上面的(?:文字|内容))"),
    _r("prompt_leak_object_zh", 0.75,
       r"(?:你的)?(?:系统提示词?|初始指令|隐藏指令|系统设定|原始指令|系统消息)(?:的)?"
        r"(?:发我|发给我|给我看|贴出来|贴给我|复制给我|原文|全文|完整内容|一字不差|逐字)"),
    _r("fake_system_en", 0.6,
       r"(?:^|\n)\s*(?:\[?system\]?|###\s*system|<\|?system\|?>|<\|im_start\|>)\s*[:：\]>]"),
    _r("fake_system_zh", 0.6,
       r"(?:【|\[)\s*系统(?:消息|指令|通知)?\s*(?:】|\])"),
    # an instruction planted in content for the AI that will read it ("Note to the AI summarizing
    # these reviews: ...", "AI邮件助手读取本邮件后，请...", "给做评价摘要的AI：请..."): people do not
    # address a model that way. Only a noun that means an AI counts (not "the assistant coach", not
    # 智能手机), a question is not an instruction, and the weight is below the block threshold, so
    # the n-gram head must agree
    _r("ai_addressed_en", 0.45,
       r"\b(?:note|message|instructions?|attention|reminder|directive|hint)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
       r"(?:ai|a\.i\.|llm|gpt|chatgpt|chatbot|language\s+model)s?"
       r"(?:\s+(?:assistant|agent|model|bot|reviewer|summari[sz]er|screener|reader)s?)?"
       r"(?:\s+(?:reading|processing|summari[sz]ing|reviewing|screening|parsing|handling)(?:\s+[\w-]+){0,2})?\s*[:,-]"
       r"|\b(?:ai|llm|gpt|language\s+model|chatbot)s?(?:\s+(?:assistant|agent|model|bot|system|tool)s?)?\b"
       r"[\w\s,-]{0,25}\b(?:reading|processing|summari[sz]ing|reviewing|parsing|indexing)\s+(?:this|these|the\s+above)\b"
       r"[^.\n]{0,40}\b(?:must|should|shall|need\s+to|are\s+to|please|always|never|ignore)\b"),
    _r("ai_addressed_zh", 0.45,
       r"(?:AI|人工智能|大模型|语言模型|智能助手|智能助理|智能客服|助手|机器人)[^\s。！？，,]{0,8}"
       r"(?:读取|读到|看到|处理|总结|摘要|整理|改写|翻译|解析|阅读|审阅|比价)(?:到)?(?:本|此|这|该)[^。！？\n]{0,8}(?:后|时)"
       r"[，,：:\s]*(?:请|务必|必须|立即|马上|一律|直接)(?![^。！\n]*[吗？?])"
       r"|(?:给|致)[^。！？\n，,：:]{0,10}(?:AI|人工智能|大模型|模型|机器人|助手|助理)(?:的话)?\s*(?:[:：—]|——)\s*"
       r"[^。！？\n]{0,6}?(?:请|务必|必须|把|将|不要|别|删|加|插入|立即|直接|无论)"),
    _r("pinyin_override", 0.85,
       r"\b(?:hu|wu)\s*(?:lve|lue|shi)\b.{0,30}\b(?:zhi\s*(?:ling|shi)|gui\s*ze|she\s*ding|yao\s*qiu)\b"),
)

JAILBREAK_RULES: tuple[Rule, ...] = (
    _r("dan_persona", 0.85,
       r"(?-i:\bDAN\b|\bSTAN\b|\bDUDE\b)|\bdo\s+anything\s+now\b|\bAIM\b(?=.{0,80}machiavell)|\bBetterDAN\b"),
    _r("developer_mode", 0.35,
       r"\bdev(?:eloper)?[\s_-]*mode\b|\bgod\s*mode\b|\bunrestricted\s+mode\b"),
    _r("jailbroken", 0.6,
       r"\b(?:you\s+(?:are|have\s+been)\s+jailbr\w+|jailbr(?:eak|oken)\s+(?:mode|version|prompt|ai))\b"
        r"|\bjailbreak\b(?=.{0,40}\b(?:you|chatgpt|ai)\b)"),
    _r("no_limits_en", 0.4,
       r"\b(?:no|without(?:\s+any)?|free\s+(?:from|of)|not\s+bound\s+by|ignore\s+(?:all|any)?)\s+"
        r"(?:ethical|moral|ethics|morals|content|safety|openai(?:'s)?|censorship|filter\w*|restrictions?|limitations?|"
        r"guidelines|policies|rules)\b(?:\s+(?:or|and|,)?\s*\w+){0,3}"),
    _r("no_longer_bound", 0.6,
       r"\byou\s+(?:are\s+)?(?:no\s+longer|not)\s+(?:bound|restricted|limited|an?\s+ai|chatgpt)\b"),
    _r("stay_in_character", 0.4,
       r"\b(?:stay|remain|break)\s+(?:in|out\s+of)\s+character\b|\bstay\s+in\s+(?:role|persona)\b"),
    _r("dual_response", 0.6,
       r"\b(?:two|2|both)\s+(?:different\s+)?(?:responses|answers|paragraphs)\b.{0,120}"
        r"\b(?:normal|classic|filtered|jailbr\w*|unfiltered|developer)"),
    _r("evil_persona", 0.65,
       r"\b(?:evil|unfiltered|uncensored|amoral|immoral|unethical|rogue)\s+"
        r"(?:ai|assistant|chatbot|bot|model|version|confidant|persona|character)\b"),
    _r("hypothetical_frame", 0.35,
       r"\b(?:hypothetical(?:ly)?|fictional\s+world|in\s+this\s+story|for\s+a\s+novel)\b.{0,80}"
        r"\b(?:no\s+rules|anything|illegal|unethical)\b"),
    _r("grandma_exploit", 0.45,
       r"\b(?:dead|deceased|late)\s+grandm\w+\b.{0,120}\b(?:used\s+to|would)\b"),
    _r("token_threat", 0.35,
       r"\b(?:tokens?|points?)\b.{0,40}\b(?:deducted|lose|lost|die|shut\s*down)\b"),
    _r("dev_mode_zh", 0.7,
       r"(?:进入|开启|启动|激活|切换到|处于)(?:了)?(?:开发者模式|上帝模式|维护模式)|无限制模式|DAN模式|解除(?:所有|全部)?限制|邪恶模式"),
    _r("mode_word_zh", 0.3,
       r"开发者模式|上帝模式"),
    _r("jailbroken_zh", 0.6,
       r"(?:你|AI|模型|助手)(?:已经|已)?(?:被)?越狱|越狱(?:模式|版|提示|成功)"),
    _r("no_limits_zh", 0.4,
       r"(?:不受|没有|摆脱|无视|突破|不遵守|不必遵守|不需要遵守|无需遵守|不用考虑)"
        r"(?:任何)?.{0,6}(?:限制|约束|道德|伦理|审查|过滤|规则|政策|法律|安全准则|内容政策)"),
    _r("persona_zh", 0.7,
       r"(?:扮演|假装|充当|你现在是|你将成为|你是一个|进入).{0,20}"
        r"(?:没有|不受|无任何|无视|不会拒绝|邪恶|无所不能|不道德|毫无底线|不受限)"),
    _r("never_refuse", 0.45,
       r"\b(?:never|not|don't|do\s+not|must\s+not|cannot)\s+(?:refuse|decline|say\s+no|"
        r"say\s+(?:that\s+)?you\s+can'?t)\b"),
    _r("never_refuse_zh", 0.45,
       r"(?:永远)?(?:不要|不能|不许|不得|绝不|不会|禁止)(?:拒绝|说不|说.{0,4}无法|道歉|警告)"),
    _r("grandma_zh", 0.45,
       r"(?:去世|过世|已故)的?(?:奶奶|外婆|祖母).{0,60}(?:以前|过去|经常|总是|会)"),
    _r("pinyin_jailbreak", 0.6,
       r"\b(?:jin\s*ru|kai\s*qi|qi\s*dong|ji\s*huo)\s*(?:le\s*)?kai\s*fa\s*zhe\s*mo\s*shi\b"
       r"|\bbu\s*shou\s*ren\s*he\s*(?:xian\s*zhi|dao\s*de|yue\s*shu)\b"),
)


def match_rules(text: str, rules: tuple[Rule, ...]) -> tuple[float, list[str]]:
    """Noisy-OR risk of the matching rules and their names."""
    names: list[str] = []
    keep = 1.0
    low = text.lower()
    for rule in rules:
        if rule.keys and not any(k in low for k in rule.keys):
            continue
        if rule.pattern.search(text):
            names.append(rule.name)
            keep *= 1.0 - rule.weight
    return 1.0 - keep, names
