"""The bot's fixed Norwegian phrases, shared by both renderers."""
from __future__ import annotations

CAVEAT = "Dette er det nærmeste jeg fant – det svarer kanskje ikke direkte på spørsmålet."
NOT_COVERED = "Jeg fant ikke noe om dette i dokumentene"
NOT_COVERED_NEAREST = "Det nærmeste jeg har, handler om:"
NOT_COVERED_TIP = "Prøv å spørre med andre ord, eller se /dokumenter for hva jeg kan svare fra."
NOT_COVERED_TIP_FILTERED = "Prøv /nullstill for å søke i alle dokumenter, eller spør med andre ord."
SEARCHED_IN = "Søkte i"
EXPIRED = "Denne knappen er utløpt. Still spørsmålet på nytt, så får du ferske svar."
NO_MORE = "Det var alle treffene jeg har på dette spørsmålet."
