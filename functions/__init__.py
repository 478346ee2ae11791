"""Firebase Cloud Functions (deployed from this folder, functions/README.md). A package only so that
the backend can import the message codec: `from functions.legacy_change import decode_change`."""
