// The config fields each connector accepts (docs/connectors.md). Unknown
// keys fail a job as invalid_job, so the form offers exactly these.
// kind: text | number | select | secret | path | json; `required` marks
// what the connector needs.

const sslModesPg = ['prefer', 'disable', 'allow', 'require', 'verify-ca', 'verify-full'];
const sslModesMy = ['preferred', 'disabled', 'required', 'verify_ca', 'verify_identity'];

export const connectors = {
  postgres: {
    label: 'PostgreSQL',
    fields: [
      {key: 'host', kind: 'text', placeholder: 'db.internal'},
      {key: 'port', kind: 'number', placeholder: '5432'},
      {key: 'database', kind: 'text', placeholder: 'shop'},
      {key: 'user', kind: 'text', placeholder: 'outpost_reader'},
      {key: 'password', kind: 'secret', placeholder: '${env:PGPASSWORD}'},
      {key: 'sslmode', kind: 'select', options: sslModesPg},
      {key: 'sslrootcert', kind: 'path', placeholder: '/etc/outpost/pg-ca.pem'},
      {key: 'connect_timeout', kind: 'number', placeholder: '10'},
      {key: 'application_name', kind: 'text', placeholder: 'outpost-agent'},
      {key: 'options', kind: 'text', placeholder: '-c search_path=dw'},
      {key: 'dsn', kind: 'text', placeholder: 'postgresql://reader:${env:PGPASSWORD}@db/shop',
       hint: 'Instead of / besides the keys above; explicit keys win.'},
    ],
  },
  mysql: {
    label: 'MySQL / MariaDB',
    fields: [
      {key: 'host', kind: 'text', required: true, placeholder: 'db.internal'},
      {key: 'port', kind: 'number', placeholder: '3306'},
      {key: 'database', kind: 'text', placeholder: 'shop'},
      {key: 'user', kind: 'text', required: true, placeholder: 'outpost'},
      {key: 'password', kind: 'secret', placeholder: '${env:MYSQL_PW}'},
      {key: 'ssl_mode', kind: 'select', options: sslModesMy},
      {key: 'ssl_ca', kind: 'path', placeholder: '/etc/outpost/mysql-ca.pem'},
      {key: 'connect_timeout', kind: 'number', placeholder: '10'},
    ],
  },
  sqlite: {
    label: 'SQLite',
    fields: [
      {key: 'path', kind: 'path', required: true, placeholder: '/data/shop.db',
       hint: "An absolute path on the agent's host, inside one of its --sqlite-dirs."},
      {key: 'busy_timeout_ms', kind: 'number', placeholder: '5000'},
    ],
  },
  odbc: {
    label: 'ODBC',
    fields: [
      {key: 'connection_string', kind: 'text',
       placeholder: 'Driver={PostgreSQL Unicode};Server=db;Database=dw;Uid=observer;Pwd=${env:PW}',
       hint: 'Either a connection string, or a DSN with user and password.'},
      {key: 'dsn', kind: 'text', placeholder: 'warehouse'},
      {key: 'user', kind: 'text', placeholder: 'observer'},
      {key: 'password', kind: 'secret', placeholder: '${env:PW}'},
      {key: 'attributes', kind: 'json', placeholder: '{"SSLmode": "require"}'},
    ],
  },
};

const REF = /^(\$\{(env|file):[^}]+\})+$/;

/** Whether a value is made of secret references only (${env:…}, ${file:…}). */
export function isSecretRef(value) {
  return REF.test(value);
}

/**
 * The config object of a filled form: empty fields left out, numbers as
 * numbers, JSON fields parsed. Throws Error naming the field on bad input.
 */
export function configFrom(type, values) {
  const spec = connectors[type];
  if (!spec) throw new Error(`unknown connector type ${type}`);
  const config = {};
  for (const f of spec.fields) {
    const raw = (values[f.key] ?? '').trim();
    if (raw === '') {
      if (f.required) throw new Error(`${f.key} is required for ${spec.label}`);
      continue;
    }
    if (f.kind === 'number') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${f.key} must be a whole number`);
      config[f.key] = n;
    } else if (f.kind === 'json') {
      let v;
      try { v = JSON.parse(raw); } catch { throw new Error(`${f.key} must be a JSON object`); }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${f.key} must be a JSON object`);
      config[f.key] = v;
    } else {
      config[f.key] = raw;
    }
  }
  return config;
}
