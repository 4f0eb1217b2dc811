"""Public notices (TED eForms, OCDS) imported as needs; see docs/notices.md."""
