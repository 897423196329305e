/**
 * The signals that stop a run or a capacity search: SIGINT (Ctrl-C), SIGTERM (a supervisor,
 * Kubernetes) and SIGHUP (the terminal or ssh session went away: the usual end of a long soak run
 * over ssh, which by default would kill the process and lose the summary; hostile review F21).
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `onSignal` on each stop signal until the returned function is called. After a SIGHUP the
 * terminal may be gone: writes to it then fail (EIO, EPIPE), and those errors are dropped so the
 * run can still write its results to disk.
 */
export function onStopSignals(onSignal: () => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    onSignal();
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}
