import type { AppContext } from '../../context.ts';
import { notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { deleteStrategy, findStrategy, insertStrategy, updateStrategy, type StrategyRow } from './store.ts';

export const STRATEGY_NOT_FOUND = 'Strategy not found';

export function toStrategyDto(row: StrategyRow) {
  return { _id: row.id, organizationId: row.organization_id, name: row.name, instructions: row.instructions, createdAt: row.created_at, updatedAt: row.updated_at };
}

export function createStrategy(ctx: AppContext, principal: Principal, input: { name: string; instructions?: string }): Promise<StrategyRow> {
  return insertStrategy(ctx.db, { id: newId(ctx.clock.now()), organizationId: principal.organizationId, name: input.name, instructions: input.instructions ?? '', now: ctx.clock.now() });
}

export async function getStrategy(ctx: AppContext, principal: Principal, id: string): Promise<StrategyRow> {
  const strategy = isId(id) ? await findStrategy(ctx.db, principal.organizationId, id) : undefined;
  if (!strategy) throw notFound(STRATEGY_NOT_FOUND);
  return strategy;
}

export async function changeStrategy(ctx: AppContext, principal: Principal, id: string, changes: { name?: string; instructions?: string }): Promise<StrategyRow> {
  const strategy = isId(id) ? await updateStrategy(ctx.db, principal.organizationId, id, changes, ctx.clock.now()) : undefined;
  if (!strategy) throw notFound(STRATEGY_NOT_FOUND);
  return strategy;
}

export async function removeStrategy(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  if (!isId(id) || !(await deleteStrategy(ctx.db, principal.organizationId, id))) throw notFound(STRATEGY_NOT_FOUND);
}
