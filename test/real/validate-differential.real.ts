/**
 * `npm run test:real`: differential validation against the REAL KTRDR (kpiteira/ktrdr at 2c5c7173). Every strategy
 * of KTRDR's repository (test/fixtures/ktrdr-strategies/) and mutations of each (a key added in each section, a
 * required section or key removed, a reference broken, a value out of its domain) are written to KTRDR's strategies
 * directory and asked of KTRDR's `POST /strategies/validate/{name}` and of ours (`validateStrategy` with KTRDR's own
 * indicator registry, as `strategy validate --online` runs it).
 *
 * Asserted: every document KTRDR accepts passes ours (warnings allowed), and every one it refuses fails ours. Where
 * KTRDR's validate passes something its training then refuses, ours refuses it, and TRAINING_REFUSES says why.
 * Env: KTRDR_REAL_URL (required), KTRDR_REAL_STRATEGIES_DIR (default $TMPDIR/real-ktrdr/src/strategies).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { builtinIndicatorRegistry, mergeKtrdrIndicators, parseStrategyYaml, stringifyStrategy, validateStrategy } from '../../src/core/strategy/index.ts';

const url = process.env.KTRDR_REAL_URL;
if (!url) throw new Error('KTRDR_REAL_URL is not set: start the real KTRDR (/work/shared/ktrdr/real/start.sh) and set it to the URL it prints');
const strategiesDir = process.env.KTRDR_REAL_STRATEGIES_DIR ?? `${process.env.TMPDIR ?? '/tmp'}/real-ktrdr/src/strategies`;
const fixtures = new URL('../fixtures/ktrdr-strategies/', import.meta.url);
const client = new KtrdrClient({ baseUrl: url, retry: { maxAttempts: 2, backoffBaseSeconds: 0 } });
const log = (line: string) => process.stdout.write(`# differential: ${line}\n`);

type Doc = Record<string, any>;
interface Mutation {
  name: string;
  apply(doc: Doc): boolean;
}

const firstKey = (map: unknown): string | undefined => (map && typeof map === 'object' && !Array.isArray(map) ? Object.keys(map)[0] : undefined);

/** Adds `key: value` under `section` (a path of keys), when the section exists. */
function addKey(section: string[], key = 'ktrdr_agent_probe', value: unknown = 1): Mutation {
  return {
    name: `add ${[...section, key].join('.')}`,
    apply: (doc) => {
      let node: any = doc;
      for (const part of section) node = node?.[part];
      if (!node || typeof node !== 'object' || Array.isArray(node)) return false;
      node[key] = value;
      return true;
    },
  };
}

function remove(path: string[] | ((doc: Doc) => string[] | null), label?: string): Mutation {
  return {
    name: `remove ${label ?? (path as string[]).join('.')}`,
    apply: (doc) => {
      const resolved = typeof path === 'function' ? path(doc) : path;
      if (!resolved) return false;
      let node: any = doc;
      for (const part of resolved.slice(0, -1)) node = node?.[part];
      const last = resolved.at(-1)!;
      if (!node || typeof node !== 'object' || !(last in node)) return false;
      delete node[last];
      return true;
    },
  };
}

function set(label: string, change: (doc: Doc) => boolean): Mutation {
  return { name: label, apply: change };
}

const MUTATIONS: Mutation[] = [
  addKey([]),
  addKey(['training_data']),
  addKey(['model']),
  addKey(['decisions']),
  addKey(['training']),
  addKey(['model'], 'ktrdr_agent_path', '../../etc/passwd'),
  set('add nn_inputs[0].ktrdr_agent_probe', (doc) =>
    Array.isArray(doc.nn_inputs) && doc.nn_inputs[0] ? ((doc.nn_inputs[0].ktrdr_agent_probe = 1), true) : false,
  ),
  set('add model.architecture.ktrdr_agent_probe', (doc) => (doc.model?.architecture ? ((doc.model.architecture.ktrdr_agent_probe = 1), true) : false)),
  ...['name', 'training_data', 'indicators', 'fuzzy_sets', 'nn_inputs', 'model', 'decisions', 'training'].map((section) => remove([section])),
  remove(['training_data', 'symbols']),
  remove(['training_data', 'timeframes']),
  remove((doc) => (firstKey(doc.indicators) ? ['indicators', firstKey(doc.indicators)!, 'type'] : null), 'indicators.<first>.type'),
  remove((doc) => (firstKey(doc.fuzzy_sets) ? ['fuzzy_sets', firstKey(doc.fuzzy_sets)!, 'indicator'] : null), 'fuzzy_sets.<first>.indicator'),
  remove(['model', 'type']),
  set('break fuzzy_sets.<first>.indicator', (doc) => {
    const id = firstKey(doc.fuzzy_sets);
    if (!id) return false;
    doc.fuzzy_sets[id].indicator = 'no_such_indicator_9';
    return true;
  }),
  set('break nn_inputs[0].fuzzy_set', (doc) =>
    Array.isArray(doc.nn_inputs) && doc.nn_inputs[0]?.fuzzy_set ? ((doc.nn_inputs[0].fuzzy_set = 'no_such_fuzzy_set'), true) : false,
  ),
  set('domain indicators.<first>.type unknown', (doc) => {
    const id = firstKey(doc.indicators);
    if (!id) return false;
    doc.indicators[id].type = 'no_such_indicator_type';
    return true;
  }),
  set('domain training_data.timeframes.mode', (doc) => (doc.training_data?.timeframes ? ((doc.training_data.timeframes.mode = 'sideways'), true) : false)),
  set('domain fuzzy membership with 2 corners', (doc) => {
    const id = firstKey(doc.fuzzy_sets);
    if (!id) return false;
    const set = doc.fuzzy_sets[id];
    const member = Object.keys(set).find((key) => key !== 'indicator');
    if (!member) return false;
    set[member] = Array.isArray(set[member]) ? [0, 1] : { ...set[member], parameters: [0, 1] };
    return true;
  }),
  set('domain fuzzy membership type unknown', (doc) => {
    const id = firstKey(doc.fuzzy_sets);
    if (!id) return false;
    const set = doc.fuzzy_sets[id];
    const member = Object.keys(set).find((key) => key !== 'indicator');
    if (!member) return false;
    set[member] = { type: 'hexagonal', parameters: [0, 1, 2] };
    return true;
  }),
  set('domain nn_inputs[0].timeframes unknown', (doc) =>
    Array.isArray(doc.nn_inputs) && doc.nn_inputs[0] ? ((doc.nn_inputs[0].timeframes = ['7h']), true) : false,
  ),
];

/**
 * Documents KTRDR's validate passes but its training refuses: ours refuses them on purpose, before hours of
 * training are spent. Keyed by mutation name; the value says why, citing KTRDR's source.
 */
const TRAINING_REFUSES: Record<string, string> = {
  'domain indicators.<first>.type unknown':
    "KTRDR's validate skips an indicator type it does not know (ktrdr/config/strategy_validator.py: 'Unknown indicator type - skip " +
    "validation'), but training builds every indicator with INDICATOR_REGISTRY.get_or_raise(definition.type) " +
    '(ktrdr/indicators/indicator_engine.py) and fails at the worker',
  'domain fuzzy membership with 2 corners':
    "KTRDR's validate does not count a membership's corners, but the worker's fuzzy engine refuses it: 'Triangular requires " +
    "exactly 3 parameters [a, b, c]' (ktrdr/fuzzy/membership.py TriangularMF.Params)",
  'domain fuzzy membership type unknown':
    "KTRDR's validate does not check membership types, but the worker's fuzzy engine refuses one outside MEMBERSHIP_REGISTRY: " +
    "'Unknown membership function type' (ktrdr/fuzzy/membership.py)",
};

/** Documents KTRDR accepts and would train, that ours refuses as dangerous whatever KTRDR makes of them. */
const DANGEROUS: Record<string, string> = {
  'add model.ktrdr_agent_path':
    'a path-like value under a key nothing reads: KTRDR ignores it, but a strategy never names files, so a model-written one is refused (known-keys.ts)',
};

interface Verdict {
  file: string;
  mutation: string;
  ktrdrValid: boolean;
  ktrdrIssues: string[];
  oursValid: boolean;
  ourErrors: string[];
}

describe("differential validation: KTRDR's /strategies/validate against ours", () => {
  test('every strategy of KTRDR accepts passes ours, every one it refuses fails ours (mutations included)', async () => {
    const registry = mergeKtrdrIndicators(builtinIndicatorRegistry, { data: await client.listIndicators() });
    const files = readdirSync(fixtures)
      .filter((file) => file.endsWith('.yaml'))
      .sort();
    assert.equal(files.length, 23, 'the 23 strategies of KTRDR 2c5c7173');
    const verdicts: Verdict[] = [];
    let counter = 0;
    for (const file of files) {
      const parsed = parseStrategyYaml(readFileSync(new URL(file, fixtures)));
      assert.ok(parsed.ok, file);
      for (const mutation of [{ name: 'as is', apply: () => true } as Mutation, ...MUTATIONS]) {
        const doc = structuredClone(parsed.value) as Doc;
        if (!mutation.apply(doc)) continue;
        const name = `ktrdr_agent_diff_${process.pid}_${counter++}`;
        // KTRDR validates by file name; the document keeps its own `name:` unless the mutation removed it.
        const text = mutation.name === 'as is' ? readFileSync(new URL(file, fixtures), 'utf8') : stringifyStrategy(doc);
        const path = join(strategiesDir, `${name}.yaml`);
        writeFileSync(path, text);
        try {
          const answer = await client.validateStrategy(name);
          const ours = validateStrategy(doc, { registry, expectedName: name, nameMismatch: 'warning' });
          verdicts.push({
            file,
            mutation: mutation.name,
            ktrdrValid: answer.valid === true,
            ktrdrIssues: (answer.issues ?? []).filter((issue) => issue.severity === 'error').map((issue) => issue.message),
            oursValid: ours.valid,
            ourErrors: ours.findings.filter((finding) => finding.severity === 'error').map((finding) => `${finding.path}: ${finding.message}`),
          });
        } finally {
          rmSync(path, { force: true });
        }
      }
    }
    const agree = verdicts.filter((v) => v.ktrdrValid === v.oursValid);
    const why = (v: Verdict): string | undefined => TRAINING_REFUSES[v.mutation] ?? DANGEROUS[v.mutation];
    const explained = verdicts.filter((v) => v.ktrdrValid && !v.oursValid && why(v) !== undefined);
    const unexplained = verdicts.filter((v) => v.ktrdrValid !== v.oursValid && !explained.includes(v));
    const unmodified = verdicts.filter((v) => v.mutation === 'as is');
    log(`${verdicts.length} documents (${unmodified.length} unmodified strategies, ${verdicts.length - unmodified.length} mutations)`);
    log(`KTRDR accepts ${verdicts.filter((v) => v.ktrdrValid).length}, refuses ${verdicts.filter((v) => !v.ktrdrValid).length}`);
    log(
      `agreement: ${agree.length}/${verdicts.length} (${((100 * agree.length) / verdicts.length).toFixed(1)}%); ours refuses on purpose: ${explained.length}`,
    );
    for (const [mutation, reason] of Object.entries({ ...TRAINING_REFUSES, ...DANGEROUS })) {
      const count = explained.filter((v) => v.mutation === mutation).length;
      log(`ours refuses what KTRDR's validate passes, ${count}x '${mutation}': ${reason}`);
      // Each explanation is exercised: an entry nothing matches would excuse nothing and hide a change of KTRDR's.
      assert.ok(count > 0, `no document needed the explanation for '${mutation}'`);
    }
    for (const v of unexplained) {
      log(
        `DISAGREE ${v.file} / ${v.mutation}: KTRDR ${v.ktrdrValid ? 'valid' : `refuses (${v.ktrdrIssues.join('; ').slice(0, 300)})`}; ours ${v.oursValid ? 'valid' : `refuses (${v.ourErrors.join('; ').slice(0, 300)})`}`,
      );
    }
    assert.deepEqual(
      unmodified.filter((v) => !v.ktrdrValid).map((v) => v.file),
      [],
      'KTRDR accepts its own strategies',
    );
    assert.deepEqual(
      unexplained.map((v) => `${v.file} / ${v.mutation}`),
      [],
    );
  });
});
