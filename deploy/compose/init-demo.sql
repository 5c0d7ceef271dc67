-- Demo data for the Compose trial, and a read-only role for the agent.
CREATE SCHEMA demo;
CREATE TABLE demo.orders (
  id bigint PRIMARY KEY,
  customer text NOT NULL,
  amount numeric(10, 2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO demo.orders (id, customer, amount, created_at)
SELECT n, 'customer-' || (n % 17), (n * 7 % 1000) / 10.0, now() - n * interval '1 hour'
FROM generate_series(1, 500) AS n;

-- The agent connects as this role: it can read, nothing else.
CREATE ROLE outpost_reader LOGIN PASSWORD 'outpost-reader-password';
GRANT USAGE ON SCHEMA demo TO outpost_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA demo TO outpost_reader;
