-- 010_job_runs: when a periodic job that the programs run themselves is next due, cluster-wide.
-- 'sweep': the usage retention, inactivity and expiry-notice sweep (lk_usage_maybe_sweep). A
-- program whose own hourly timer is due claims the run with one UPDATE ... WHERE next_at <= now:
-- one program of all the web nodes wins it (on Galera too, whichever database node each program
-- uses: two such UPDATEs of the row conflict, and the loser's retry finds the new next_at), so
-- the sweep never runs on every node at once.
CREATE TABLE IF NOT EXISTS job_runs (
  name     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  next_at  BIGINT NOT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO job_runs (name, next_at) VALUES ('sweep', 0);
