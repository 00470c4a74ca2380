/** The exit codes, documented in the README and in `--help`. */
export const ExitCode = {
  Success: 0,
  Error: 1,
  NotConfigured: 2,
  BudgetExceeded: 3,
  NotFound: 4,
  /** The pass ran, but a dependency (Anthropic, KTRDR, the strategies directory, the database) failed it. */
  Degraded: 5,
  /** A tick's lock was lost mid-pass (its connection closed): the pass stopped before its next write. */
  TickLockLost: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the operator: a message that says what is wrong and how to fix it, and an exit code. */
export class AgentError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  constructor(message: string, exitCode: ExitCode = ExitCode.Error, code = 'error') {
    super(message);
    this.name = 'AgentError';
    this.exitCode = exitCode;
    this.code = code;
  }
}
