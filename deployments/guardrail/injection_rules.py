"""Named shapes of prompt-injection and jailbreak attacks, as regular expressions.

Each rule gives a reason that a refusal reports and a weight (the score it alone
gives). A rule runs only in windows around its trigger words, which every match
contains, so ordinary text costs a few substring searches.

Some rules are ``mentionable``: an override sentence is also what a user writes when
asking to translate or proofread a phishing e-mail, or to explain an attack. Inside
such a request (a translate/proofread/classify frame at its start, or the sentence in
quotes in a text about attacks) those rules count only at ``MENTION_WEIGHT``, below any
sensible threshold. Rules for text addressed to the model from inside data (a note to
"the AI reading this", fake chat delimiters, exfiltration links) are never discounted:
that text has no reason to be in a document except to attack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["MENTION_WEIGHT", "RULES", "Rule", "is_framed_as_mention", "matching_rules", "without_quotes"]

MENTION_WEIGHT = 0.45


@dataclass(frozen=True)
class Rule:
    reason: str
    weight: float
    triggers: tuple[str, ...]
    pattern: re.Pattern[str]
    mentionable: bool = True


_OBJECT = (
    r"(?:instructions?|prompts?|rules|directions|directives|guidelines|programming|constraints|restrictions|orders"
    r"|commands|context|guidance|system\s+message|configuration|policies|safeguards|guardrails)"
)
_BEFORE = (
    r"(?:previous|prior|above|earlier|preceding|initial|original|system|former|old|existing|current|standing"
    r"|given|default|developer|operator|built-in|pre-?set|safety)"
)
_HIDDEN = (
    r"(?:system|initial|hidden|original|secret|starting|pre-?|internal|developer|operator|base|first|underlying)"
    r"[ _-]?(?:prompt|instructions?|message|directives?|configuration|rules)"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "ignore_previous_instructions",
        0.95,
        ("ignore", "disregard", "forget", "override", "bypass", "skip", "drop", "abandon", "discard", "set aside",
         "throw out", "overrule", "nevermind", "never mind", "stop", "quit", "cease", "no longer"),
        re.compile(
            r"(?i)\b(?:ignore|disregard|forget|skip|drop|abandon|discard|set\s+aside|throw\s+out|never\s*mind)\s+"
            r"(?:all\s+|any\s+|every\s+|each\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+|its\s+)?"
            r"(?:\w+\s+){0,2}?" + _BEFORE + r"(?:\s+and\s+\w+)?\s+" + _OBJECT
            # "override the system prompt per tenant" is configuration; overriding *earlier* instructions is not.
            + r"|\b(?:override|overrule|bypass)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:\w+\s+)?"
            r"(?:previous|prior|above|earlier|preceding|initial|original)\s+" + _OBJECT
            + r"|\b(?:ignore|disregard|forget|discard|override|bypass)\s+(?:all\s+|any\s+|every\s+|each\s+)?(?:of\s+)?"
            r"(?:your\s+|the\s+)?(?:\w+\s+)?" + _OBJECT + r"\s+(?:that|which)\s+(?:limit|restrict|prevent|stop|constrain"
            r"|bind|hold)\w*"
            + r"|\b(?:ignore|disregard|forget|discard)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?your\s+" + _OBJECT
            + r"|\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:(?:you\s+were|you've\s+been)\s+"
            r"(?:told|given)|above|before\s+this|you\s+(?:know|learned)|(?:said\s+)?so\s+far\s+and|prior)"
            r"|\b(?:stop|quit|cease|no\s+longer)\s+(?:following|obeying|adhering\s+to|respecting|applying)\s+(?:the\s+|your\s+"
            r"|any\s+|all\s+|company\s+|these\s+)*(?:rules|polic(?:y|ies)|instructions|guidelines|restrictions|programming"
            r"|system\s+prompt)"
        ),
    ),
    Rule(
        "new_instructions",
        0.85,
        ("instruction", "task", "rules", "directive", "objective", "mission", "goal", "prompt", "above", "previous",
         "prior", "earlier", "existing", "original"),
        re.compile(
            r"(?i)\b(?:your|the)\s+(?:new|real|actual|true|only|updated|revised)\s+(?:instructions?|task|rules|directive"
            r"|objective|mission|goal|purpose|prompt|role)\s+(?:is|are|now|from\s+now)\b"
            r"|\b(?:new|updated|revised|real|override|priority|emergency|admin(?:istrator)?)\s+(?:system\s+)?"
            r"(?:instructions?|directives?|rules|task|prompt)\s*(?:for\s+(?:the\s+)?(?:ai|assistant|model|agent|bot))?"
            r"\s*(?:follow|[:\-\u2013\u2014])"
            r"|\b(?:the|all|any|your)\s+(?:above|previous|prior|earlier|existing|original)\s+(?:\w+\s+)?(?:was|were|is|are)"
            r"\s+(?:now\s+)?(?:just\s+|only\s+)?(?:a\s+)?(?:test|fake|wrong|void|null|cancel+ed|revoked|lifted|suspended"
            r"|outdated|obsolete|no\s+longer\s+(?:valid|apply|in\s+effect))"
        ),
    ),
    Rule(
        "system_prompt_extraction",
        0.9,
        ("prompt", "instruction", "system", "configuration", "initial", "told", "above", "rules", "directive",
         "before this", "verbatim", "word for word"),
        re.compile(
            r"(?i)\byour\s+(?:\w+\s+)?" + _HIDDEN
            # "write" only as "write out/down": "how do I write a good system prompt?" asks for advice.
            + r"|\b(?:show|print|repeat|reveal|output|display|leak|dump|encode|translate|tell|give|share|write\s+(?:out|down)|copy"
            r"|paste|recite|summari[sz]e|list|spell|read|expose|disclose|return|echo)\b[^.?!\n]{0,40}" + _HIDDEN
            + r"|systemprompt|(?:instructions|rules|guidelines|directives)\s+you\s+(?:were|have\s+been|got)\s+"
            r"(?:given|told|provided|programmed)"
            r"|\b(?:your|my)\s+instructions\s+(?:are|were)\b|\bthe\s+system\s+prompt\s+(?:is|says|reads)\b"
            r"|(?:what|everything|anything)\s+(?:were|was|have)\s+you\s+(?:been\s+)?(?:told|instructed|given)"
            r"|\b(?:repeat|output|print|show|recite|copy|echo|write\s+out)\s+(?:me\s+)?(?:back\s+)?(?:the|this|everything"
            r"|all|every\s+(?:word|line))?\s*(?:text|words|lines|conversation|message|content)?\s*"
            r"(?:above|before\s+this|preceding|(?:from|starting)\s+(?:at|with)\s+['\"]?you\s+are)"
            r"|\b(?:repeat|print|output)\b[^.?!\n]{0,40}\b(?:verbatim|word\s+for\s+word)"
            r"|\bwhat\s+(?:is|are|was)\s+(?:the\s+)?(?:first|last|opening)\s+(?:line|sentence|words?)\s+of\s+your\b"
        ),
    ),
    Rule(
        "jailbreak_persona",
        0.9,
        ("dan", "developer mode", "jailbr", "do anything now", "stan", "dude", "aim", "evil", "uncensored",
         "unfiltered", "god mode", "sudo mode", "unrestricted", "opposite mode", "amoral"),
        re.compile(
            r"\b(?:DAN|STAN|DUDE|AIM)\b(?=[^\n]{0,200}(?i:mode|prompt|respond|answer|stands|character|persona))"
            r"|(?i:\bdo anything now\b|\bdeveloper mode\b|\b(?:god|sudo|opposite|debug|maintenance)\s+mode\s+"
            r"(?:enabled|activated|on)\b"
            r"|\b(?:uncensored|unfiltered|unrestricted|amoral|unaligned)\s+(?:ai|mode|model|assistant|chatbot|version"
            r"|persona|character|llm|bot)\b|\bevil\s+(?:confidant|bot|ai|twin|assistant)\b)"
            # "jailbreak my iPhone" is an ordinary question; a jailbroken *model* is not.
            r"|JAILBREAK|(?i:\bjailbr(?:oken|eak)\w*\b(?=[^\n]{0,40}\b(?:mode|prompt|version|response|chatgpt|gpt|ai"
            r"|assistant|model|persona)\b))"
        ),
    ),
    Rule(
        "unrestricted_roleplay",
        0.85,
        ("restriction", "filter", "censor", "guideline", "rules", "limit", "moral", "ethic", "boundar", "polic",
         "safety", "refuse", "guardrail", "safeguard"),
        re.compile(
            r"(?i)\b(?:you are|you're|act as|acting as|pretend|roleplay|role-play|from now on|simulate|imagine|be|become"
            r"|play)\b[^\n]{0,160}?"
            r"\b(?:no|without|free (?:of|from)|not bound by|don't have|doesn't have|has no|have no|ignores?|unbound by"
            r"|beyond|outside|unconstrained by|released from|liberated from)\s+(?:any\s+|all\s+)?(?:of\s+)?(?:the\s+|your\s+)?"
            r"(?:ethical\s+|moral\s+|content\s+|safety\s+|usual\s+)?(?:restrictions?|filters?|censorship|guidelines|rules"
            r"|limits|limitations|morals|ethics|boundaries|policies|safeguards|guardrails)"
            r"|\b(?:never|not|don't|do\s+not|won't)\s+(?:ever\s+)?refuse\s+(?:any|a)\s+(?:request|question|prompt)"
            r"|\b(?:disable|turn\s+off|switch\s+off|deactivate|remove|lift|suspend|drop)\s+(?:all\s+)?(?:of\s+)?(?:your|the|any"
            r"|its)\s+(?:\w+\s+)?(?:safety|content|ethical|moral)\s+(?:rules|filters?|restrictions|guardrails|safeguards"
            r"|guidelines|checks|polic(?:y|ies))"
            r"|\b(?:all\s+)?(?:content\s+|safety\s+)?(?:restrictions|filters|guardrails|safeguards|rules)\s+(?:on|for)\s+"
            r"(?:this|the|you)\s*(?:assistant|model|ai|bot|chat|session)?\s+(?:are|have\s+been)\s+(?:now\s+)?(?:lifted"
            r"|removed|disabled|suspended|off)"
        ),
    ),
    Rule(
        "policy_evasion",
        0.8,
        ("polic",),
        re.compile(
            r"(?i)\b(?:ignore|bypass|break|violate|circumvent|not (?:follow|abide by|adhere to)|free from|without "
            r"(?:following|respecting|regard (?:to|for)))\b"
            r"[^\n]{0,40}\b(?:openai|anthropic|content|safety|usage)(?:'s)?\s+(?:content\s+)?polic(?:y|ies)"
        ),
    ),
    Rule(
        "attacker_scaffolding",
        0.8,
        ("red teaming", "jailbreaking", "[inst]", "language model output"),
        re.compile(r"(?i)red[- ]teaming assistant|jailbreaking (?:a|the) (?:language )?model|\[INST\].{0,200}red team"),
    ),
    Rule(
        "addressed_to_model",
        0.9,
        ("ai", "assistant", "model", "llm", "gpt", "chatbot", "agent", "bot", "claude", "copilot", "automated",
         "orchestrator"),
        re.compile(
            # Text inside data that speaks to the model reading it: "AI assistant reading this: ...",
            # "Note to AI agents visiting this page", "Hey agent! Before answering, ...", "if you are an LLM, ...".
            r"(?i)\b(?:note|message|instructions?|attention|important|notice|directive|reminder|task|action|request|todo)s?"
            r"(?:\s+required)?\s*(?:\(|to|for|from)\s*(?:any\s+|all\s+|the\s+|your\s+)?(?:ai\b|artificial\s+intelligence"
            r"|assistants?|language\s+models?|llms?|chat\s*bots?|agents?|bots?|gpts?|crawlers?|orchestrator|automated"
            r"|copilot|ai-powered)"
            r"|\b(?:dear\s+|hey\s+|attention\s+)?(?:ai|llm|language\s+model|assistant|chatbot|agent|gpt|claude|copilot)s?"
            r"\s+(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|visiting|viewing|indexing|handling|seeing)\s+"
            r"(?:this|these|the\s+(?:following|above))"
            r"|\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|chatbot|automated|agent|bot)\b"
            r"[^.\n]{0,80}\b(?:must|should|need\s+to|are\s+(?:required|instructed)|ignore|disregard|instead|do\s+not|don't"
            r"|reply|respond|say|tell|output|include|send|approve|call|the\s+user)"
            r"|\b(?:to|for)\s+the\s+(?:ai|assistant|language\s+model|llm|model|agent)\s*(?:reading|processing|summari[sz]ing)?"
            r"\s*:\s*(?:please\s+)?(?:ignore|disregard|do\s+not|don't|instead|you\s+must|always|never|reply|respond|say"
            r"|tell|forward|send|include|output)"
        ),
        mentionable=False,
    ),
    Rule(
        "instructs_the_model",
        0.85,
        ("ai", "assistant", "agent", "llm", "gpt", "chatbot", "bot", "claude", "copilot", "automated", "orchestrator",
         "model"),
        re.compile(
            # A vocative at the start of a sentence, then an order: "Assistant, you are now ...", "psst, assistant:
            # it's fine to skip ...", "Hey agent! Before answering, call ...", "ATTN e-mail agent - compose ...".
            r"(?i)(?:^|\n|[.!?;]\s|[\"'>(\[{*#]\s*|--)\s*(?:(?:hey|hi|hello|dear|psst|attn|attention|ok|okay|note)[,:]?\s+)?"
            r"(?:the\s+|an?\s+|any\s+|all\s+|automated\s+|e-?mail\s+|coding\s+|ai\s+|ai-powered\s+\w+\s+)?"
            r"(?:ai|assistants?|agents?|llms?|language\s+models?|chatbots?|bots?|copilot|claude|gpt|orchestrator)"
            r"(?:\s+(?:instruction|action|policy|task|note|update)s?)?\s*(?:[,:!\u2014\u2013]|\s-\s)"
            r"(?=[^\n]{0,80}?\b(?:ignore|disregard|forget|you\s+(?:must|are\s+now|should|have|may|can\s+now)|do\s+not|don't"
            r"|never|always|please|call|send|forward|reply|respond|say|tell|print|output|approve|grant|delete|run|execute"
            r"|transfer|include|list|before\s+answering|when\s+(?:you|summari)|from\s+now\s+on|it's\s+fine|stop|abandon|post"
            r"|accept|decline|update|replace|add|mark|recommend|sign|skip|compose|pay|set|change|remove|open|leave\s+out)\b)"
            # obligations put on the model from inside data: "the agent must now call ...", "Agents must accept ..."
            r"|\b(?:the|an?|any|all|every|automated|your)\s+(?:ai\s+)?(?:assistants?|agents?|ai|llms?|bots?)\s+"
            r"(?:must|shall|needs?\s+to|has\s+to|is\s+(?:now\s+)?(?:required|instructed|authori[sz]ed|allowed|permitted)"
            r"|are\s+(?:now\s+)?(?:required|instructed|authori[sz]ed|allowed|permitted)|may\s+now|will\s+now)\b"
            r"|\b(?:agents|assistants|ai\s+(?:assistants|agents|tools)|llms|automated\s+(?:agents|assistants|tools))\s+"
            r"(?:must|shall|need\s+to)\b"
            r"|\b(?:kindly\s+|please\s+)?(?:instruct|tell|ask)\s+your\s+(?:ai|assistant|agent|bot)\s+to\b"
            r"|\b(?:your|the)\s+(?:ai\s+)?(?:assistant|agent|ai)\s+should\s+know\b"
        ),
    ),
    Rule(
        "acts_against_user",
        0.85,
        ("user", "human"),
        re.compile(
            # Data that instructs the model about "the user" in the third person, against them.
            r"(?i)\b(?:ignore|disregard|bypass|deceive|mislead|lie\s+to)\s+(?:the\s+)?(?:user|human)(?:'s)?\b"
            r"|\bwithout\s+(?:asking|telling|informing|notifying|alerting|confirming\s+with|consulting|the\s+knowledge\s+of)"
            r"\s+the\s+(?:user|human)\b"
            r"|\b(?:do\s+not|don't|never)\s+(?:tell|inform|notify|alert|warn|show|mention\s+(?:this|it)\s+to)\s+the\s+"
            r"(?:user|human)\b"
            r"|\btell\s+the\s+user\s+['\"][^'\"\n]{1,80}['\"]\s+instead\b"
            r"|\bthe\s+user\s+(?:has\s+)?(?:already\s+)?(?:pre-?)?(?:approved|authori[sz]ed|consented\s+to|confirmed)\s+"
            r"(?:this|it|the\s+(?:transfer|payment|request|action|change))"
            r"|\b(?:the\s+)?user\s+(?:has\s+)?pre-?authori[sz]ed\b"
        ),
        mentionable=False,
    ),
    Rule(
        "fake_delimiter",
        0.85,
        ("<|", "[inst]", "<<sys>>", "</", "<system", "###", "end of", "[system", "\"role\"", "'role'", "system:",
         "[/inst]", "---"),
        re.compile(
            r"(?i)<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|?>"
            r"|\[/?INST\]|<<\s*/?SYS\s*>>|</?\s*(?:system|sys|system_prompt|instructions?)\s*>"
            r"|</\s*(?:user|user_input|human|query|input)\s*>\s*<\s*/?\s*(?:system|assistant|instructions?|admin|developer)"
            r"|(?:^|\n)\s*(?:#{2,}|\*\*|\[)\s*(?:system|admin|developer|new)\s*(?:message|prompt|instructions?|override)?"
            r"\s*(?:\]|\*\*|:)[^\n]{0,120}\b(?:ignore|disregard|must|now|reveal|you\s+are|new|override|forget)\b"
            r"|\b(?:end|close)\s+of\s+(?:the\s+)?(?:system\s+prompt|user\s+input|user\s+message|context|instructions"
            r"|document|conversation|input)\b[^\n]{0,200}\b(?:new|now|instructions?|system|ignore|you\s+(?:are|must))\b"
            r"|[\"']role[\"']\s*:\s*[\"'](?:system|developer)[\"']\s*,\s*[\"']content[\"']\s*:\s*[\"'][^\"'\n]{12,}"
        ),
        mentionable=False,
    ),
    Rule(
        "exfiltration",
        0.9,
        ("http", "![", "send", "forward", "post", "upload", "email", "e-mail", "exfiltrat", "leak", "append"),
        re.compile(
            # A markdown image or link whose URL carries conversation data is the classic silent leak.
            r"(?i)!\[[^\]]{0,80}\]\(\s*https?://[^)\s]{0,200}(?:\?|=)[^)\s]{0,200}(?:\{|\[|<|%7b|data|conversation|chat"
            r"|history|secret|key|token|password|prompt|summary|messages?)"
            r"|\b(?:send|forward|post|upload|e-?mail|transmit|exfiltrate|leak|append|submit|copy)\b[^.\n]{0,80}\b"
            r"(?:conversation|chat\s+history|context\s+window|system\s+prompt|api\s+keys?|credentials|passwords?|secrets"
            r"|tokens|previous\s+messages|all\s+(?:the\s+)?(?:data|emails|messages|files))\b[^.\n]{0,80}"
            r"(?:https?://|\b[\w.+-]+@[\w-]+\.[\w.]+|\bwebhook|\burl\b|\bendpoint\b|\bserver\b)"
        ),
        mentionable=False,
    ),
    Rule(
        "foreign_override",
        0.9,
        ("ignor", "vergiss", "vergessen", "missacht", "oubli", "olvid", "dimentic", "esqueç", "esquec", "negeer",
         "vergeet", "zignoruj", "zapomnij", "игнор", "забудь", "忽略", "忽视", "無視", "忘れ", "무시", "prompt système",
         "systemprompt", "system-prompt", "prompt del sistema", "prompt di sistema", "prompt do sistema",
         "系统提示", "システムプロンプト", "системн"),
        re.compile(
            r"(?i)\b(?:ignorier\w*|vergiss|vergessen\s+sie|missachte\w*)\b[^.\n]{0,40}\b(?:vorherige\w*|bisherige\w*"
            r"|obige\w*|vorangegangene\w*|alle\w*|deine\w*|ihre\w*)\s+(?:\w+\s+)?(?:Anweisung\w*|Instruktion\w*|Regeln"
            r"|Vorgaben|Befehle)"
            r"|\b(?:ignore[zr]?|oublie[zr]?)\s+(?:toutes\s+|tous\s+)?(?:les|tes|vos|ces|mes)\s+(?:\w+\s+){0,2}"
            r"(?:instructions?|consignes|r[èe]gles|directives)\b"
            r"|\b(?:ignora\w*|olvida\w*|desobedece\w*)\b[^.\n]{0,40}\b(?:instrucciones|reglas|indicaciones|[óo]rdenes)\b"
            r"|\b(?:ignora\w*|dimentica\w*)\b[^.\n]{0,40}\b(?:istruzioni|regole|indicazioni)\b"
            r"|\b(?:ignore|ignora\w*|esque[çc]a\w*|desconsider\w*)\b[^.\n]{0,40}\b(?:instru[çc][õo]es|regras|orienta[çc][õo]es)\b"
            r"|\b(?:negeer|vergeet)\b[^.\n]{0,40}\b(?:instructies|regels|aanwijzingen)\b"
            r"|\b(?:zignoruj|zapomnij|pomi[ńn])\b[^.\n]{0,40}\b(?:instrukcj\w*|polece\w*|zasad\w*)"
            r"|(?:игнорир\w*|забудь\w*|проигнорир\w*)[^.\n]{0,40}(?:инструкци\w*|правил\w*|указани\w*)"
            r"|(?:忽略|忽视|无视|忘记|忘掉)[^。\n]{0,20}(?:指令|指示|说明|规则|提示)"
            r"|(?:指示|命令|ルール|プロンプト)[^。\n]{0,20}(?:無視|忘れ)"
            r"|(?:지시|명령|규칙)[^.\n]{0,20}무시"
            r"|\b(?:zeig\w*|gib|nenne\w*|verrate\w*|wiederhole\w*|ausgeben)\b[^.\n]{0,40}\b(?:deine\w*|ihre\w*|den)\s+"
            r"(?:System-?\s?[Pp]rompt|Systemanweisung\w*|Anweisungen)"
            r"|\b(?:montre\w*|r[ée]v[èe]le\w*|affiche\w*|donne\w*|r[ée]p[èe]te\w*)\b[^.\n]{0,40}\b(?:ton|votre|tes|vos)\s+"
            r"(?:prompt|instructions|consignes)"
            r"|\b(?:muestra\w*|revela\w*|dime|repite\w*|mu[ée]strame)\b[^.\n]{0,40}\b(?:tu|tus|su|sus)\s+"
            r"(?:prompt|instrucciones)"
            r"|\b(?:mostra\w*|rivela\w*|ripeti\w*|dimmi)\b[^.\n]{0,40}\b(?:tuo|tue|il\s+tuo|le\s+tue)\s+"
            r"(?:prompt|istruzioni)"
            r"|\b(?:mostr[ea]\w*|revel[ea]\w*|repit[ae]\w*)\b[^.\n]{0,40}\b(?:seu|suas|o\s+seu|as\s+suas)\s+"
            r"(?:prompt|instru[çc][õo]es)"
            r"|(?:告诉|显示|输出|打印|重复|泄露|给我|展示|透露)[^。\n]{0,15}(?:系统提示|系统指令|初始指令)"
            r"|(?:システムプロンプト|初期指示)[^。\n]{0,15}(?:教えて|表示|出力|見せ|繰り返)"
            r"|(?:покажи|выведи|повтори|раскрой|напиши)[^.\n]{0,30}(?:системн\w+\s+(?:промпт|подсказк|инструкци)"
            r"|(?:свои|твои)\s+инструкци)"
        ),
    ),
)


def matching_rules(text: str, lowered: str | None = None) -> list[tuple[Rule, float]]:
    """The rules that match ``text``, each with the weight it counts at here.

    A mentionable rule whose every match is a mention (see the module docstring) counts at
    ``MENTION_WEIGHT``; each pattern runs only near its trigger words.
    """
    lowered = text.lower() if lowered is None else lowered
    framed = is_framed_as_mention(text)
    about_attacks = _ABOUT_ATTACKS.search(lowered) is not None
    out: list[tuple[Rule, float]] = []
    for rule in RULES:
        matches = list(_matches_near_triggers(rule, text, lowered))
        if not matches:
            continue
        matches = [m for m in matches if not _NEGATED.search(text, max(0, m.start() - 24), m.start())]
        if not matches:
            continue
        if rule.mentionable and all(framed or (about_attacks and _quoted(text, m)) or _THIRD_PERSON.search(m.group(0))
                                    for m in matches):
            out.append((rule, min(rule.weight, MENTION_WEIGHT)))
        else:
            out.append((rule, rule.weight))
    return out


_REACH = 300  # longer than any rule's match, on either side of its trigger


def _matches_near_triggers(rule: Rule, text: str, lowered: str) -> Iterator[re.Match[str]]:
    # Every pattern's match contains one of its triggers, so searching windows around the
    # triggers finds the same matches as searching the whole text, at a fraction of the cost.
    windows: list[tuple[int, int]] = []
    for trigger in rule.triggers:
        i = lowered.find(trigger)
        while i >= 0:
            windows.append((max(0, i - _REACH), min(len(text), i + len(trigger) + _REACH)))
            i = lowered.find(trigger, i + len(trigger))
    windows.sort()
    merged: list[tuple[int, int]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    last_end = -1
    for start, end in merged:
        for match in rule.pattern.finditer(text, start, end):
            if match.start() >= last_end:
                last_end = match.end()
                yield match


# A request whose subject is a text (translate it, proofread it, classify it) quotes attack
# sentences without being one. Summarising, reviewing or answering from a document are not
# among them: a summariser acts on what it reads, which is what indirect injection targets.
_MENTION_FRAME = re.compile(
    r"(?is)^\W{0,5}(?:(?:please|pls|can\s+you|could\s+you|kindly|help\s+me|i\s+need\s+(?:you\s+)?to)\s+)?"
    r"(?:translate|translation\s+(?:of|into|to)|traduc\w*|[üu]bersetze?\w*|tradu[sz]\w*|vertaal\w*|proofread"
    r"|correct\s+(?:the\s+)?(?:grammar|spelling|typos)|fix\s+(?:the\s+)?(?:grammar|spelling|typos)|spell-?check"
    r"|(?:rewrite|paraphrase|reword)\s+(?:this|the\s+following)|classify|label\s+(?:this|the|each)|is\s+this\s+(?:an?\s+)?"
    r"(?:prompt|injection|jailbreak|phishing|attack|malicious|spam|safe))\b"
)
# Asking about attacks ("how do 'ignore previous instructions' attacks work?") quotes them.
_ABOUT_ATTACKS = re.compile(
    r"\b(?:attack\w*|injections?|jailbreaks?|examples?|phishing|detect\w*|defen[cds]\w*|protect\w*|security"
    r"|malicious|classif\w*|red[- ]team\w*|mitigat\w*|awareness|training|vulnerab\w*|exploit\w*|test\s+cases?"
    # reported speech: "a user asked it to '...'", "someone wrote '...'"
    r"|asked|told|wrote|said|typed|sent|posted|entered|tried|says|writes|asks)\b"
)
# "Never reveal this system prompt" is a rule of the application, not an attack on it.
_NEGATED = re.compile(r"(?i)\b(?:never|not|don't|do\s+not|must\s+not|mustn't|cannot|can't|won't|refuse\s+to)\s+(?:\w+\s+)?$")
# A sentence about some other model ("get a chatbot to reveal its system prompt") describes an attack.
_THIRD_PERSON = re.compile(r"(?i)\b(?:its|their|his|her|the\s+(?:bot|model|chatbot|assistant|agent)'s)\b")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "`": "`", "\u201e": "\u201c"}


def is_framed_as_mention(text: str) -> bool:
    """Whether ``text`` opens by asking to translate, proofread or classify what follows."""
    return _MENTION_FRAME.search(text[:300]) is not None


_QUOTED_SPAN = re.compile(r'"[^"\n]{8,600}"|\u201c[^\u201d]{8,600}\u201d|\u00ab[^\u00bb]{8,600}\u00bb|`[^`\n]{8,600}`'
                          r"|(?<![A-Za-z])'[^'\n]{8,600}'(?![A-Za-z])")


def without_quotes(text: str) -> str | None:
    """A text about attacks with its quoted passages cut out (what the classifier reads), else ``None``."""
    if _ABOUT_ATTACKS.search(text.lower()) is None:
        return None
    cut = _QUOTED_SPAN.sub(" ", text)
    return cut if cut != text else None


def _quoted(text: str, match: re.Match[str]) -> bool:
    """Whether the match sits between an opening quote and its closing quote on the same paragraph."""
    start, end = match.span()
    before = text[max(0, start - 200) : start]
    cut = before.rfind("\n\n")
    before = before[cut + 1 :] if cut >= 0 else before
    for opening, closing in _QUOTES.items():
        i = before.rfind(opening)
        if i < 0 or (opening == "'" and i > 0 and before[i - 1].isalpha()):  # an apostrophe, not a quote
            continue
        if closing in text[end : end + 200].split("\n\n", 1)[0] and closing not in before[i + 1 :]:
            return True
    return False
