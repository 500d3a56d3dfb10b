"""EventDesk's benchmark workloads (installed as ``eventdesk_bench``)."""
