import type { AppContext } from '../../context.ts';
import { notFound } from '../../http/errors.ts';
import { isId } from '../../lib/ids.ts';
import type { Principal } from '../auth/service.ts';
import { findApplication, listApplications, type ApplicationRow } from './store.ts';

export function toApplicationDto(row: ApplicationRow) {
  return {
    _id: row.id,
    leadId: row.lead_id,
    configurationId: row.configuration_id,
    name: row.name,
    status: row.status,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    stageName: row.stage_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function listApplicationsOf(ctx: AppContext, principal: Principal, query: { leadId?: string; limit?: number }): Promise<ApplicationRow[]> {
  return listApplications(ctx.db, principal.organizationId, { leadId: query.leadId, limit: query.limit ?? 50 });
}

export async function getApplication(ctx: AppContext, principal: Principal, id: string): Promise<ApplicationRow> {
  const row = isId(id) ? await findApplication(ctx.db, principal.organizationId, id) : undefined;
  if (!row) throw notFound('Application not found');
  return row;
}
