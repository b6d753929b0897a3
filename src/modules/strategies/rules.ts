/**
 * Which strategy a follow-up step uses. `selection` is the step's strategyIds: "auto" (any of
 * the organization's strategies), one id, or a list of ids. Among the candidates that exist,
 * the one used least on this lead so far wins; ties go to the earlier candidate (the order
 * given, or creation order for "auto").
 */
export function chooseStrategy(
  selection: string | string[],
  available: readonly string[],
  usageOnLead: ReadonlyMap<string, number>,
): string | null {
  const wanted = selection === 'auto' ? available : typeof selection === 'string' ? [selection] : selection;
  const exists = new Set(available);
  const candidates = wanted.filter((id) => exists.has(id));
  let best: string | null = null;
  for (const id of candidates) {
    if (best === null || (usageOnLead.get(id) ?? 0) < (usageOnLead.get(best) ?? 0)) best = id;
  }
  return best;
}
