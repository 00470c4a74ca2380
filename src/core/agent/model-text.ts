// Model-written text is data. What the model writes is bounded where it enters (a tool's input, strategy YAML
// included) with a refusal it can act on, never cut silently; and whatever text the agent places in a prompt goes
// through one rule here, so that no text can open a section of the prompt it sits in.

/** Longest string anywhere in a strategy the model writes (a description, a hypothesis, an id). */
export const STRATEGY_STRING_MAX = 2000;
/** Largest strategy, as compact JSON: KTRDR's own strategies are 2 to 6 KB. */
export const STRATEGY_CHARS_MAX = 32_000;

/** Why a strategy written by the model is too large to store or show again in a prompt, or null. */
export function strategySizeProblem(config: unknown): string | null {
  const long: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (value.length > STRATEGY_STRING_MAX) long.push(`${path || '(config)'} is ${value.length} characters`);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}[${index}]`));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.length > STRATEGY_STRING_MAX) long.push(`a key under ${path || '(config)'} is ${key.length} characters`);
        visit(item, path ? `${path}.${key}` : key);
      }
    }
  };
  visit(config, '');
  if (long.length > 0) {
    return `strategy refused: ${long.slice(0, 5).join('; ')}; a string in a strategy may have at most ${STRATEGY_STRING_MAX} characters. Shorten it (a hypothesis is a sentence or two) and call the tool again.`;
  }
  const chars = JSON.stringify(config)?.length ?? 0;
  if (chars > STRATEGY_CHARS_MAX) {
    return `strategy refused: it is ${chars} characters as JSON, more than the ${STRATEGY_CHARS_MAX} a strategy may have. Write a smaller one and call the tool again.`;
  }
  return null;
}

/**
 * Text shown back to the model inside a tool result, cut to `max` characters with the cut said: a read of what
 * was stored (an older row may predate the bounds), never the store itself.
 */
export function clipped(text: string | null, max: number): string | null {
  if (text === null || text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Largest tool input stored whole in the action log (agent_actions.tool_args), as JSON. */
export const STORED_TOOL_INPUT_MAX = 16_000;

/**
 * A tool call's input as the action log keeps it: whole when it is of a reasonable size, else its size and its
 * beginning, so a model that sends a huge refused input again and again cannot grow the database with it.
 */
export function storedToolInput(input: unknown): unknown {
  const value = input ?? {};
  const json = JSON.stringify(value) ?? '{}';
  if (json.length <= STORED_TOOL_INPUT_MAX) return value;
  return { omitted: `the input was ${json.length} characters as JSON; its first 2000 are kept`, start: json.slice(0, 2000) };
}

const PROMPT_LINE_BREAK = /\r\n|[\r\n\t\u000b\u000c\u0085\u2028\u2029]/g;
const PROMPT_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The one rule for text placed in a prompt outside a fenced block: on one line, so it cannot start a heading,
 * a list item or a fence, whatever it says.
 */
export function promptLine(text: string): string {
  return text.replace(PROMPT_LINE_BREAK, ' ').replace(PROMPT_CONTROL, '');
}

/** Every string of a value (a strategy, results) on one line, for showing it in a prompt as YAML or JSON. */
export function promptValue<T>(value: T): T {
  if (typeof value === 'string') return promptLine(value) as T;
  if (Array.isArray(value)) return value.map((item) => promptValue(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [promptLine(key), promptValue(item)])) as T;
  }
  return value;
}

/** A fenced block whose fence is longer than any run of backticks in it, so nothing inside can close it. */
export function promptBlock(text: string, info: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${text.replace(/\n$/, '')}\n${fence}`;
}
