import type { Principal } from './service.ts';

/** A credential's principal and the instant (ms) after which it must be checked again. */
export interface ResolvedCredential {
  principal: Principal;
  validUntil: number;
}

/**
 * The principals of recently presented credentials (JWTs and API keys), so a request does
 * not verify a signature and read its user again on every call.
 *
 * It is only trusted while it hears of every user change: the database announces each change
 * to a user row, `forgetUser` drops that user's entries, and while the announcements may be
 * missed (`listening(false)`) the cache is empty and bypassed. A read that began before an
 * announcement is not kept (the generation moved on meanwhile), so a stale row read just
 * before a change cannot outlive it. Entries also end at the token's expiry and after `ttlMs`.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, ResolvedCredential>();
  #generation = 0;
  #listening = false;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get active(): boolean {
    return this.ttlMs > 0 && this.#listening;
  }

  /** The cached principal for `credential`, or `resolve`'s answer (kept when it may be). */
  async resolve(credential: string, now: number, resolve: () => Promise<ResolvedCredential | undefined>): Promise<Principal | undefined> {
    if (!this.active) return (await resolve())?.principal;
    const cached = this.#entries.get(credential);
    if (cached && cached.validUntil > now) return cached.principal;
    if (cached) this.#entries.delete(credential);
    const generation = this.#generation;
    const resolved = await resolve();
    if (resolved && this.active && generation === this.#generation) this.#keep(credential, resolved, now);
    return resolved?.principal;
  }

  forgetUser(userId: string): void {
    this.#generation += 1;
    for (const [credential, entry] of this.#entries) {
      if (entry.principal.userId === userId) this.#entries.delete(credential);
    }
  }

  listening(listening: boolean): void {
    this.#generation += 1;
    this.#listening = listening;
    if (!listening) this.#entries.clear();
  }

  #keep(credential: string, resolved: ResolvedCredential, now: number): void {
    const validUntil = Math.min(resolved.validUntil, now + this.ttlMs);
    if (validUntil <= now) return;
    // insertion order: the first key is the oldest entry
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(credential, { principal: resolved.principal, validUntil });
  }
}
