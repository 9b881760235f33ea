// Validates every GraphQL document found in template literals / .graphql files against the demo schema.
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
const schema = buildSchema(readFileSync('/work/wt/errors/schema/projects/demo.graphql', 'utf8'));
const files = process.argv.slice(2);
let bad = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const docs = [];
  if (file.endsWith('.graphql')) docs.push({ body: text, line: 1 });
  else {
    const re = /`((?:[^`\\]|\\.)*)`/gs;
    let m;
    while ((m = re.exec(text))) {
      const body = m[1];
      if (!/^\s*(query|mutation|subscription|\{|fragment)/.test(body)) continue;
      const line = text.slice(0, m.index).split('\n').length;
      docs.push({ body: body.replace(/\$\{[^}]*\}/g, 'X1'), line });
    }
    // also single-quoted one-liners
    const re2 = /'((?:query|mutation|subscription|\{)[^'\n]*\})'/g;
    while ((m = re2.exec(text))) docs.push({ body: m[1], line: text.slice(0, m.index).split('\n').length });
  }
  for (const { body, line } of docs) {
    let doc;
    try { doc = parse(body); } catch { continue; }
    const errors = validate(schema, doc).filter((e) => !/X1|Unknown fragment/.test(e.message));
    if (errors.length) { bad++; console.log(`${file}:${line}: ${errors.map((e) => e.message).join(' | ')}`); }
  }
}
console.log(`bad docs: ${bad}`);
