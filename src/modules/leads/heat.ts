/**
 * The heat score: how engaged a lead is, from 0 (cold) to 100 (hot). A pure function of
 * engagement so it is easy to reason about and test; stored on the lead and recomputed
 * whenever one of its inputs changes (stage, activities, last activity date).
 *
 *   replies            10 points per reply, at most 3 counted        (0..30)
 *   recency            25 points for activity now, falling linearly
 *                      to 0 at 30 days since the last activity      (0..25)
 *   stage progress     25 × position of the stage in its pipeline
 *                      (first stage 0, last stage 1; a lost stage 0) (0..25)
 *   demos / meetings   10 points per completed one, at most 2        (0..20)
 *
 * The sum is rounded to an integer. Labels: hot ≥ 70, warm ≥ 40, else cold.
 */
export interface HeatInputs {
  replies: number;
  lastActivityAt: Date | null;
  now: Date;
  /** 0 (first stage, or none, or lost) .. 1 (last stage) */
  stageProgress: number;
  completedMeetings: number;
}

export type HotLabel = 'hot' | 'warm' | 'cold';

export const HOT_THRESHOLD = 70;
export const WARM_THRESHOLD = 40;
const RECENCY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function heatScore(inputs: HeatInputs): number {
  const replies = 10 * clamp(Math.floor(inputs.replies), 0, 3);
  const ageDays = inputs.lastActivityAt ? Math.max(0, inputs.now.getTime() - inputs.lastActivityAt.getTime()) / DAY_MS : Infinity;
  const recency = 25 * clamp(1 - ageDays / RECENCY_WINDOW_DAYS, 0, 1);
  const stage = 25 * clamp(Number.isFinite(inputs.stageProgress) ? inputs.stageProgress : 0, 0, 1);
  const meetings = 10 * clamp(Math.floor(inputs.completedMeetings), 0, 2);
  return clamp(Math.round(replies + recency + stage + meetings), 0, 100);
}

export function heatLabel(score: number): HotLabel {
  if (score >= HOT_THRESHOLD) return 'hot';
  if (score >= WARM_THRESHOLD) return 'warm';
  return 'cold';
}

/**
 * The score nearest to `score` that carries `label`: what a client setting the label alone
 * does to the score, so the label it sent is the label it reads back.
 */
export function scoreWithLabel(score: number, label: HotLabel): number {
  if (heatLabel(score) === label) return score;
  if (label === 'hot') return HOT_THRESHOLD;
  if (label === 'warm') return score < WARM_THRESHOLD ? WARM_THRESHOLD : HOT_THRESHOLD - 1;
  return WARM_THRESHOLD - 1;
}

/** Where a stage sits in its pipeline, for the heat score: a stage named "Lost" is no progress. */
export function stageProgress(stage: { name: string; position: number; count: number } | null): number {
  if (!stage || stage.count <= 1 || /^lost$/i.test(stage.name.trim())) return 0;
  return clamp(stage.position / (stage.count - 1), 0, 1);
}

/**
 * A new lead's score, whichever way it came in: its stage's progress, one reply if it came
 * having replied, the recency of a last activity it came with; no meetings yet.
 */
export function newLeadHeat(
  stage: { name: string; position: number; count: number },
  lead: { replied: boolean; lastActivityAt: Date | null },
  now: Date,
): number {
  return heatScore({ replies: lead.replied ? 1 : 0, lastActivityAt: lead.lastActivityAt, now, stageProgress: stageProgress(stage), completedMeetings: 0 });
}
