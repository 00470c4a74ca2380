// Why a design never reached training, read from the last refusal a design tool gave (or the invocation's reason when
// none refused), so the memory can tell the designer what went wrong instead of "(unsaved) [(no indicators)]". Pure:
// the tool messages it reads are the design tools' own (agent/tools.ts, db/repositories/design-claims.ts).

export const designFailureKinds = ['duplicate', 'in_flight', 'invalid', 'ktrdr_rejected', 'refused', 'not_saved'] as const;
export type DesignFailureKind = (typeof designFailureKinds)[number];

export interface DesignFailure {
  kind: DesignFailureKind;
  /** One short line: the experiment it repeats, the first error, what refused it. */
  detail: string;
}

/** What each kind means in the memory's failure groups. */
export const DESIGN_FAILURE_WORDS: Record<DesignFailureKind, string> = {
  duplicate: 'refused as a repeat of an experiment already run',
  in_flight: 'refused: the same design was running in another session',
  invalid: 'invalid (refused by the validator)',
  ktrdr_rejected: "rejected by KTRDR's validation",
  refused: 'refused by a design tool',
  not_saved: 'ended without saving a design',
};

const DETAIL_MAX = 200;

function short(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > DETAIL_MAX ? `${line.slice(0, DETAIL_MAX - 1)}…` : line;
}

/**
 * The failure of a design from the last error a design tool returned in its session (null: none did) and the
 * session's failure reason (the invocation's own words).
 */
export function classifyDesignFailure(lastToolError: string | null, sessionReason: string | null): DesignFailure {
  const error = lastToolError ?? '';
  // The run described up to the advice that follows it (its failure reason may hold dots: "0.95 > 0.8").
  const repeats = /was already (?:run|trained on this window): (experiment #\d+ \(session #\d+\).*?)(?:\. (?:Change|Choose) |$)/s.exec(error);
  if (repeats) return { kind: 'duplicate', detail: short(`repeats ${repeats[1]}`) };
  const live = /(session #\d+) is running this design/.exec(error);
  if (live) return { kind: 'in_flight', detail: short(`the same design was running in ${live[1]}`) };
  if (error.startsWith('KTRDR rejected the strategy')) {
    const first = error.split('\n').find((line) => line.startsWith('- '));
    return { kind: 'ktrdr_rejected', detail: short(`KTRDR rejected it: ${first ? first.slice(2) : error}`) };
  }
  const findings = error.split('\n').find((line) => line.startsWith('error '));
  if (findings) return { kind: 'invalid', detail: short(`first error: ${findings.slice('error '.length)}`) };
  const input = /^invalid input for \w+: (.*)$/s.exec(error);
  if (input) return { kind: 'invalid', detail: short(`first error: ${input[1]!.split('; ')[0]}`) };
  if (error) return { kind: 'refused', detail: short(error) };
  return { kind: 'not_saved', detail: short(sessionReason ?? 'the design invocation ended without saving a strategy') };
}
