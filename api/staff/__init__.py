"""The internal staff API (`/staff/v1/privacy`): what the compliance console calls, behind
Google's Identity-Aware Proxy. Not part of the mobile API: no version of the app's, not in
the spec, mounted only where `ApiServices.staff` is set (ADR 0019)."""
