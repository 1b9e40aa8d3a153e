// Runs graphql-http's GraphQL-over-HTTP server audits against the URL given and prints
// one JSON line: [{id, name, status, reason}] (tests/api/test_http_audit.py reads it).
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
const report = results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }));
process.stdout.write(`${JSON.stringify(report)}\n`);
