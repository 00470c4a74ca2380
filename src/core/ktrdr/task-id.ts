/**
 * The training task id of a session's operation. Deterministic per installation, session, strategy and fresh start,
 * so a start retried after a crash finds the same KTRDR operation; the installation id keeps another database's
 * session N from meeting this one's id (KTRDR answers a repeated id with its OLD operation), and a fresh start after
 * a stall gets its own id for the same reason. KTRDR stores ids in a VARCHAR(100).
 */
export function trainingTaskId(installation: string, sessionId: number, strategyName: string, freshStart = 0): string {
  const attempt = freshStart > 0 ? `_r${freshStart}` : '';
  return `op_training_agent_${installation}_s${sessionId}${attempt}_${strategyName}`.slice(0, 100);
}
