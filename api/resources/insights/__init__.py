"""/v1/insights and /v1/ai/consents: AI results and consent to a hosted provider."""
