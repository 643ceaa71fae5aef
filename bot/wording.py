"""The bot's fixed Norwegian phrases, shared by both renderers."""
from __future__ import annotations

CAVEAT = "Dette er det nærmeste jeg fant – det svarer kanskje ikke direkte på spørsmålet."
NOT_COVERED = "Jeg fant ikke noe om dette i dokumentene"
NOT_COVERED_NEAREST = "Det nærmeste jeg har, handler om:"
NOT_COVERED_TIP = "Prøv å spørre med andre ord, eller se /dokumenter for hva jeg kan svare fra."
NOT_COVERED_TIP_CLI = "Prøv å spørre med andre ord, eller se `policybot corpus list` for hva jeg kan svare fra."
# Why a question is not (fully) answered, by retrieval.decision.REASONS: said so that
# "not covered" is not read as "the party has no policy on this".
REASON = {
    "other_party": "Spørsmålet gjelder et annet parti, og dokumentene jeg svarer fra, sier ikke hva det partiet mener.",
    "person": "Dokumentene handler om politikk, ikke om hvem som har vunnet, leder eller har fått et verv.",
    "current": "Spørsmålet gjelder dagsaktuelle tall eller hendelser, og dem dekker ikke dokumentene.",
    "no_figure": "Jeg fant ikke noe tall på dette i avsnittene som ligger nærmest.",
}
# The same reasons said above passages that are shown.
REASON_ANSWERED = {
    "current": "Dokumentene har ikke dagsaktuelle tall eller nyheter; dette er det de sier om temaet.",
}


def reason_line(reason: str, answered: bool) -> str:
    """The line that says why, or "" when there is no reason to give."""
    return (REASON_ANSWERED.get(reason, "") if answered else "") or REASON.get(reason, "")

NOT_COVERED_TIP_FILTERED = "Prøv /nullstill for å søke i alle dokumenter, eller spør med andre ord."
SEARCHED_IN = "Søkte i"
EXPIRED = "Denne knappen er utløpt. Still spørsmålet på nytt, så får du ferske svar."
NO_MORE = "Det var alle treffene jeg har på dette spørsmålet."
CHECK_QUALIFIES = "Fra samme avsnitt:"
CHECK_USAGE = "Skriv /sjekk og påstanden du vil sjekke, for eksempel: /sjekk Ap vil legge ned kontantstøtten"
COMPARE_MISSING = "Ikke omtalt i:"
COMPARE_USAGE = "Skriv /sammenlign og et tema, for eksempel: /sammenlign politikontakt"


def hedge_note(word: str) -> str:
    return f"Merk: formulert som «{word}»"


# --- the engine's replies ------------------------------------------------------------------

EXAMPLES = (
    "Vil Ap fjerne kontantstøtten?",
    "Hva vil dere gjøre med boligprisene?",
    "Hvor mange nye politistillinger kommer?",
    "Kva meiner Ap om skatt?",
)
WELCOME = (
    "Hei! Jeg svarer på spørsmål om politiske dokumenter ved å vise deg avsnittene som "
    "svarer, ordrett og med kilde. Jeg finner ikke på noe selv.\n\n"
    "Skriv et spørsmål med egne ord (bokmål, nynorsk eller engelsk), for eksempel:\n{examples}"
)
WELCOME_TELEGRAM = (
    "\n\n/dokumenter viser hva jeg kan svare fra, /filter lar deg velge ett dokument, "
    "/lofter viser bare løfter («… vil:»), /hjelp forklarer resten."
)
HELP_TITLE = "Slik bruker du meg"
# Before the commands (which come from bot.commands) ...
HELP_INTRO = (
    "Skriv et spørsmål med egne ord. Jeg viser de avsnittene i dokumentene som passer best, med dokument, kapittel og utgiver.",
    "Vis flere gir neste treff, Sammenheng viser teksten rundt et avsnitt, 👍/👎 forteller oss om svaret var nyttig.",
    "Finner jeg bare noe i nærheten, sier jeg det. Finner jeg ingenting, sier jeg det også.",
)
# ... and after them, in Telegram only.
HELP_TELEGRAM = (
    "I grupper svarer jeg når du nevner meg (@{bot}) eller svarer på en melding fra meg.",
    "Del et avsnitt i en annen chat: skriv @{bot} og spørsmålet ditt i meldingsfeltet, eller @{bot} sjekk og en påstand.",
)

ALL_DOCUMENTS = "alle dokumenter"
ALL_DOCUMENTS_BUTTON = "Alle dokumenter"
ONLY_COMMITMENTS = "bare løfter"
ONLY_COMMITMENTS_BUTTON = "Bare løfter («… vil:»)"
SEARCHING_NOW = "Søker nå i "


def only_document(title: str) -> str:
    return f"bare «{title}»"


def where_to_search(scope: str) -> str:
    return f"Hvor skal jeg søke? Nå: {scope or ALL_DOCUMENTS}."


UNKNOWN_DOCUMENT = "Ukjent dokument. Bruk en id fra /dokumenter."


def searching_only(title: str) -> str:
    return f"Søker nå bare i «{title}»."


COMMITMENTS_ON = "Viser nå bare løfter («… vil:»-punkter). Skriv /lofter igjen for å se alt."
COMMITMENTS_OFF = "Viser nå alle typer avsnitt, ikke bare løfter."
RESET = "Søker nå i alle dokumenter, alle typer avsnitt."


def unknown_command(command: str) -> str:
    return f"Kommandoen {command[:40]} kjenner jeg ikke. Skriv /hjelp for å se hva jeg kan, eller still et spørsmål."


NOT_TEXT = "Jeg forstår bare tekst. Skriv spørsmålet ditt med ord, så leter jeg i dokumentene."
RATE_LIMITED = "Du sender spørsmål veldig raskt. Vent et øyeblikk og prøv igjen."
EMPTY_QUESTION = "Skriv et spørsmål, for eksempel: «" + EXAMPLES[0] + "»"


def long_question(chars: int, limit: int) -> str:
    return f"Spørsmålet var langt ({chars} tegn), så jeg søkte på de første {limit}."


THANKS = "Takk! Det hjelper oss å gjøre svarene bedre."
CHOOSE_DOCUMENT = "Velg et dokument for å se hva det handler om:"

# button labels
MORE = "Vis flere ▶"
PREVIOUS = "◀ Forrige"
NEXT_SECTION_PAGE = "Flere ▶"
BACK = "⬅ Tilbake"
SHARE = "↗ Del"
CHECK_A_PROMISE = "✅ Sjekk et løfte"
SAME_TOPIC = "🗂 Mer fra samme tema"


def context_button(n: int) -> str:
    return f"📖 Sammenheng {n}"



# --- topic answers and where an answer comes from ------------------------------------------------


def topic_promises(n: int) -> str:
    if n == 0:
        return "Avsnittet har ingen «… vil:»-løfter; her er det mest relevante:"
    return f"{n} løfter i avsnittet, de mest relevante først:" if n > 1 else "Ett løfte i avsnittet:"


def all_promises_button(n: int) -> str:
    return f"📋 Alle {n} løfter"


TOPIC_RELATED = "Andre avsnitt om temaet:"


def scope_line(kind: str, doc_title: str, term: str = "") -> str:
    """Why the answer comes from where it does (retrieval.scope.ScopeNote)."""
    if kind == "programme_silent":
        name = doc_title.replace("Arbeiderpartiets program", "Programmet")
        return f"{name} nevner ikke {term}. Dette sier de andre dokumentene:"
    if kind == "named_silent":
        return f"{doc_title} sier ikke noe om dette. Dette sier de andre dokumentene:"
    return ""


# --- the web page ------------------------------------------------------------------------------

LINK_TO_ANSWER = "🔗 Lenke til svaret"
CONTEXT = "Sammenheng"
DOCUMENTS_HEADING = "Dokumentene jeg svarer fra"
WEB_NOT_COVERED_TIP = "Prøv å spørre med andre ord, eller se dokumentene jeg kan svare fra."
WEB_NOT_COVERED_TIP_FILTERED = "Søk i alle dokumenter igjen, eller spør med andre ord."


def compare_heading(topic: str) -> str:
    return f"Hva dokumentene sier om «{topic}»"
WEB_CHECK_LABEL = "Sjekk en påstand mot løftene"
WEB_COMPARE_LABEL = "Sammenlign dokumentene om et tema"
CHECK_USAGE_WEB = "Skriv påstanden du vil sjekke, for eksempel: Ap vil legge ned kontantstøtten"
COMPARE_USAGE_WEB = "Skriv et tema, for eksempel: politikontakt"
WEB_INTERNAL = "Beklager, noe gikk galt hos meg. Prøv igjen om litt."
WEB_TOO_LARGE = "Det du sendte er for langt. Skriv et kortere spørsmål."
WEB_CSRF = "Siden er for gammel eller kom fra et annet nettsted. Last inn siden på nytt og prøv igjen."
WEB_BAD_REQUEST = "Forespørselen var ikke som ventet. Last inn siden på nytt og prøv igjen."
WEB_NOT_FOUND = "Siden finnes ikke. Gå til forsiden og still et spørsmål."
WEB_PERMALINK_GONE = "Fant ikke dette svaret: lenken er feil, eller svaret er slettet etter lagringstiden. Still spørsmålet på nytt."
WEB_ERROR_TITLE = "Noe gikk ikke"
WEB_TOPICS_TITLE = "Bla i kapitlene"
WEB_FILTER_TITLE = "Velg dokument"
WEB_EMBED_TITLE = "Spør om programmet"
WEB_EMBED_TEXT = "Lim inn denne koden på nettsiden din for å vise chatten der (adressen må være tillatt i POLICYBOT_WEB_EMBED_ORIGINS):"
VOTE_UP = "Svaret var nyttig"
VOTE_DOWN = "Svaret var ikke nyttig"
WEB_DESCRIPTION = "Still spørsmål om partiprogrammet og få svar med ordrette sitater og kilde."
WEB_TAGLINE = "Svar med ordrette sitater fra dokumentene, med kilde. Jeg finner ikke på noe selv."
WEB_HINT = "Skriv med egne ord, på bokmål, nynorsk eller engelsk."
WEB_FOOTER = "Svarene er utdrag fra dokumentene, ordrett. Spørsmål lagres uten navn i en begrenset tid for å gjøre svarene bedre."

# --- small talk (bot.intents): a short friendly reply, followed by example questions ---------

SMALL_TALK = {
    "greeting": "Hei! Spør meg om politikken i dokumentene, så viser jeg avsnittene som svarer, ordrett og med kilde. For eksempel:",
    "thanks": "Bare hyggelig! Spør gjerne om mer, for eksempel:",
    "chat": "Spør meg gjerne om politikken i dokumentene, for eksempel:",
    "help": "Skriv et spørsmål med egne ord, så viser jeg avsnittene i dokumentene som svarer, ordrett og med kilde. "
    "Skriv «sjekk» og en påstand for å finne løftet den gjelder, «sammenlign» og et tema for å se hva hvert dokument sier, "
    "eller «tema» for å bla i kapitlene. For eksempel:",
}


# --- a key term the documents never write (retrieval.facts) ---------------------------------


def _names(words: tuple[str, ...]) -> str:
    shown = list(words[:3])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " eller " + shown[-1]


def missing_line(words: tuple[str, ...], confidence: str | None) -> str:
    """The first line when a key term of the question occurs nowhere in the documents:
    exact, so a volunteer can verify it, and read as "no text", not "no policy".
    ``confidence``: "low" (the nearest passages follow), "high" (passages that answer in
    other words follow) or None (not covered)."""
    if not words:
        return ""
    head = f"Dokumentene nevner ikke {_names(words)}."
    if confidence == "low":
        return head + " Det nærmeste jeg fant:"
    if confidence == "high":
        return head + " Dette er avsnittene som passer best:"
    return head


# --- the promise check's verdicts (retrieval.claims) -----------------------------------------


def check_verdict(verdict: str, words: tuple[str, ...] = (), scope: tuple[str, ...] = (), doc: str = "", programme: str = "") -> str:
    """The promise check's verdict in plain words (retrieval.claims.VERDICTS)."""
    prog = f"«{programme}»" if programme else "programmet"
    if verdict == "match":
        return f"Ja, dette står i {prog}:"
    if verdict == "weaker":
        if scope and words:
            how = f"det står «{words[0]}», ikke «{scope[0]}»"
        elif scope:
            how = f"løftet sier ikke «{scope[0]}»"
        elif words:
            how = "løftet er formulert som " + " og ".join(f"«{x}»" for x in words)
        else:
            how = "løftet sier mindre"
        return f"Programmet lover mindre enn påstanden: {how}."
    if verdict == "contradicts":
        return f"Nei, {prog} sier det motsatte:"
    if verdict == "elsewhere":
        return f"{prog[0].upper() + prog[1:]} sier ikke dette, men «{doc}» gjør det:"
    return f"Ingen av dokumentene sier dette. Det nærmeste løftet i {prog}:"
