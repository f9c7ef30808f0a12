"""Operations: the job queue page (queue), the audit log of admin actions (audit),
Prometheus metrics (metrics), their pages (views) and JSON route (api, api_docs)."""
