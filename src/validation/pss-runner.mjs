// Runs @monokle/validation (an ES module) in its own process, so the harness
// works from CommonJS callers such as jest. Reads {resources} JSON on stdin,
// writes [{ruleId, level, kind, name, path, message}] on stdout.
// Only local plugins run: the schema and OPA plugins download at run time.
import { createDefaultMonokleValidator } from '@monokle/validation';

const input = JSON.parse(await new Promise(resolve => {
  let data = '';
  process.stdin.on('data', chunk => (data += chunk));
  process.stdin.on('end', () => resolve(data));
}));

const validator = createDefaultMonokleValidator();
const plugins = {
  'pod-security-standards': true,
  'practices': true,
  'kubernetes-schema': false,
  'open-policy-agent': false,
  'resource-links': false,
  'yaml-syntax': false,
  'metadata': false,
};
await validator.preload({ plugins });
// The restricted profile's rules are disabled by default: turn every rule of
// both plugins on as errors.
const rules = {};
for (const [pluginName, pluginRules] of Object.entries(validator.rules)) {
  if (!plugins[pluginName]) continue;
  for (const rule of pluginRules) {
    rules[`${pluginName}/${rule.name}`] = 'err';
  }
}
await validator.preload({
  plugins,
  rules: { ...rules, ...(input.rules ?? {}) },
});

const resources = input.resources.map((content, i) => ({
  id: `r${i}`,
  fileId: `f${i}`,
  filePath: `manifest-${i}.yaml`,
  fileOffset: 0,
  name: content.metadata?.name ?? `r${i}`,
  apiVersion: content.apiVersion,
  kind: content.kind,
  namespace: content.metadata?.namespace,
  content,
  text: JSON.stringify(content),
}));
const response = await validator.validate({ resources });
const out = [];
for (const run of response.runs) {
  for (const result of run.results ?? []) {
    const idx = Number((result.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '').replace(/\D/g, ''));
    const res = input.resources[idx] ?? {};
    out.push({
      ruleId: result.ruleId,
      level: result.level,
      kind: res.kind,
      name: res.metadata?.name,
      message: result.message?.text,
    });
  }
}
process.stdout.write(JSON.stringify({ results: out }));
