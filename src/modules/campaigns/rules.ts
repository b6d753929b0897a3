import { invalidField } from '../../http/errors.ts';

export type CampaignStatus = 'draft' | 'active' | 'paused' | 'stopped';

export const CAMPAIGN_DEFAULTS = {
  timezone: 'UTC',
  allowedHours: { start: '09:00', end: '20:00' },
  allowedDays: [1, 2, 3, 4, 5],
  maxRetries: 3,
  retryIntervalMinutes: 60,
} as const;

// A campaign is created as a draft, runs (active) and may be paused and resumed; stopping
// it is final, and a campaign that has run never goes back to draft.
const NEXT_STATUSES: Record<CampaignStatus, CampaignStatus[]> = {
  draft: ['active', 'stopped'],
  active: ['paused', 'stopped'],
  paused: ['active', 'stopped'],
  stopped: [],
};

export function checkStatusChange(from: CampaignStatus, to: CampaignStatus): void {
  if (from === to || NEXT_STATUSES[from].includes(to)) return;
  throw invalidField('status', `cannot change from ${from} to ${to}`);
}
