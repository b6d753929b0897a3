import type { AppContext } from '../../context.ts';
import { isForeignKeyViolation } from '../../db/database.ts';
import { badRequest, notFound } from '../../http/errors.ts';
import { isId, newId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { deletePromptUnlessUsed, findPrompt, insertPrompt, updatePrompt, type PromptRow } from './store.ts';

export const PROMPT_NOT_FOUND = 'Prompt not found';

export function toPromptDto(row: PromptRow) {
  return {
    _id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    name: row.name,
    content: row.content,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createPrompt(ctx: AppContext, principal: Principal, input: { name: string; content?: string; description?: string | null }) {
  return insertPrompt(ctx.db, {
    id: newId(ctx.clock.now()),
    organizationId: principal.organizationId,
    userId: principal.userId,
    name: input.name,
    content: input.content ?? '',
    description: input.description ?? null,
    now: ctx.clock.now(),
  });
}

export async function getPrompt(ctx: AppContext, principal: Principal, id: string): Promise<PromptRow> {
  const prompt = isId(id) ? await findPrompt(ctx.db, principal.organizationId, id) : undefined;
  if (!prompt) throw notFound(PROMPT_NOT_FOUND);
  return prompt;
}

export async function changePrompt(
  ctx: AppContext,
  principal: Principal,
  id: string,
  changes: { name?: string; content?: string; description?: string | null },
): Promise<PromptRow> {
  const prompt = isId(id) ? await updatePrompt(ctx.db, principal.organizationId, id, changes, ctx.clock.now()) : undefined;
  if (!prompt) throw notFound(PROMPT_NOT_FOUND);
  return prompt;
}

export async function removePrompt(ctx: AppContext, principal: Principal, id: string): Promise<void> {
  if (!isId(id)) throw notFound(PROMPT_NOT_FOUND);
  const result = await deletePromptUnlessUsed(ctx.db, principal.organizationId, id).catch((error: unknown) => {
    // leads and agents keep their process: the foreign key refuses the delete
    if (isForeignKeyViolation(error)) throw badRequest('Prompt is in use by leads or agents and cannot be deleted');
    throw error;
  });
  if (result.usedBy !== undefined) {
    throw badRequest(`Prompt is in use by lead management configuration "${result.usedBy}" and cannot be deleted`);
  }
  if (!result.deleted) throw notFound(PROMPT_NOT_FOUND);
}
