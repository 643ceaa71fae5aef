"""The bot's fixed Norwegian phrases, shared by both renderers."""
from __future__ import annotations

CAVEAT = "Dette er det nærmeste jeg fant – det svarer kanskje ikke direkte på spørsmålet."
NOT_COVERED = "Jeg fant ikke noe om dette i dokumentene"
NOT_COVERED_NEAREST = "Det nærmeste jeg har, handler om:"
NOT_COVERED_TIP = "Prøv å spørre med andre ord, eller se /dokumenter for hva jeg kan svare fra."
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
def check_found(where: str) -> str:
    return f"Dette står i {where}:"



CHECK_NOT_FOUND = "Jeg fant ikke et slikt løfte. Nærmeste:"
CHECK_QUALIFIES = "Fra samme avsnitt:"
CHECK_USAGE = "Skriv /sjekk og påstanden du vil sjekke, for eksempel: /sjekk Ap vil legge ned kontantstøtten"
COMPARE_MISSING = "Ikke omtalt i:"
COMPARE_USAGE = "Skriv /sammenlign og et tema, for eksempel: /sammenlign politikontakt"


def hedge_note(word: str) -> str:
    return f"Merk: formulert som «{word}»"
