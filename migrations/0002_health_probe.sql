-- Migration 2: a one-row table that /healthz rewrites while the disk is
-- full, to learn when writes work again (src/store/health.rs).
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
