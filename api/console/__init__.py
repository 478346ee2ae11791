"""The compliance console (`/console`): server-rendered pages over the staff services, for
compliance staff answering data-subject requests (ADR 0018, 0019). Mounted only where the
staff API is served; the same identity (IAP's assertion, dev staff tokens elsewhere) and the
same roles; every form carries a CSRF token; no JavaScript, no personal data in URLs."""
