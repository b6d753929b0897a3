import { NON_BLANK } from './schemas.ts';

/**
 * One error type for the whole core. Modules throw it; each surface (native API, each
 * vendor dialect) renders it into its own envelope and status in its own error handler.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL_SERVER_ERROR';

export interface FieldIssue {
  /** dotted path of the offending field, e.g. `costPerLead` or `followUpConfig.1.hours` */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, issues: FieldIssue[] = []) => new AppError(400, 'BAD_REQUEST', message, issues);
export const unauthorized = (message: string) => new AppError(401, 'UNAUTHORIZED', message);
export const forbidden = (message: string) => new AppError(403, 'FORBIDDEN', message);
export const notFound = (message: string) => new AppError(404, 'NOT_FOUND', message);
export const conflict = (message: string, data?: unknown) => new AppError(409, 'CONFLICT', message, [], data);
export const preconditionFailed = (message: string) => new AppError(412, 'PRECONDITION_FAILED', message);

/** A 400 for one field: the message names the field. */
export function invalidField(field: string, rule: string): AppError {
  const message = `${field} ${rule}`;
  return badRequest(message, [{ field, message }]);
}

interface AjvIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface FrameworkError {
  /** Fastify's FST_* code, or a database error's SQLSTATE */
  code?: string;
  statusCode?: number;
  validation?: AjvIssue[];
  validationContext?: string;
  message?: string;
}

function issueFromAjv(issue: AjvIssue, context: string | undefined): FieldIssue {
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  if (issue.keyword === 'required') path.push(String(issue.params?.missingProperty));
  if (issue.keyword === 'additionalProperties') path.push(String(issue.params?.additionalProperty));
  const field = path.join('.') || context || 'body';
  let rule: string;
  switch (issue.keyword) {
    case 'required':
      rule = 'is required';
      break;
    case 'additionalProperties':
      rule = 'is not an allowed field';
      break;
    case 'enum':
      rule = `must be one of: ${((issue.params?.allowedValues as unknown[]) ?? []).join(', ')}`;
      break;
    case 'format':
      rule = issue.params?.format === 'email' ? 'must be a valid email address' : `must be a valid ${issue.params?.format}`;
      break;
    case 'alternatives':
      rule = String(issue.message);
      break;
    case 'pattern':
      rule = issue.params?.pattern === NON_BLANK ? 'must not be blank' : (issue.message ?? 'is invalid');
      break;
    default:
      rule = issue.message ?? 'is invalid';
  }
  return { field, message: `${field} ${rule}` };
}

/** Validation issues listed in one answer; the message says there are more. */
export const MAX_REPORTED_ISSUES = 50;
/** Ajv issues looked at (a union item alone makes several): enough to list MAX_REPORTED_ISSUES. */
const MAX_EXAMINED_ISSUES = 2_000;

// The multipart parser (busboy) reports a truncated or malformed form as a plain Error.
const MALFORMED_MULTIPART = /^(Unexpected end of multipart data|Multipart: Boundary not found|\w+ terminated early due to unexpected end of multipart data)$/;

/** What a value failing this branch issue should have been, when the issue is about its kind. */
function alternativeOf(issue: AjvIssue): string | undefined {
  if (issue.keyword === 'type') return String(issue.params?.type);
  if (issue.keyword === 'const') return String(issue.params?.allowedValue);
  if (issue.keyword === 'alternatives') return (issue.params?.alternatives as string[]).join(' or ');
  return undefined;
}

/**
 * Ajv reports a value that fails a union (`anyOf`) with every branch's issues and then the
 * union's own. That reads as noise ("must be string; must be null; must match a schema in
 * anyOf"), so each union is folded into what the client needs: the issues of a branch the
 * value is of the right kind for (it failed inside it), or else one issue listing the kinds
 * it could have been ("must be string or null", "must be one of: text, call, email").
 * Innermost unions fold first, so an outer union sees an inner one as a single issue. Each
 * issue finds its union by lookups along its own paths, so a body of thousands of failing
 * array items costs linear time, not quadratic.
 */
function foldUnions(issues: AjvIssue[]): AjvIssue[] {
  const unionKey = (schemaPath: string, instancePath: string) => `${schemaPath}\u0000${instancePath}`;
  // a union is one schema position applied at one place in the value (array items share the first)
  const unions = new Map<string, AjvIssue>();
  for (const issue of issues) if (issue.keyword === 'anyOf') unions.set(unionKey(issue.schemaPath ?? '', issue.instancePath ?? ''), issue);
  if (unions.size === 0) return issues;

  /** The innermost union not yet folded that this issue is a branch issue of. */
  const ownerOf = (issue: AjvIssue): AjvIssue | undefined => {
    const schemaPath = issue.schemaPath ?? '';
    const instancePath = issue.instancePath ?? '';
    for (let at = schemaPath.lastIndexOf('/anyOf/'); at > 0; at = schemaPath.lastIndexOf('/anyOf/', at - 1)) {
      const unionPath = schemaPath.slice(0, at + '/anyOf'.length);
      for (let end = instancePath.length; ; end = instancePath.lastIndexOf('/', end - 1)) {
        const union = unions.get(unionKey(unionPath, instancePath.slice(0, end)));
        if (union) return union;
        if (end <= 0) break;
      }
    }
    return undefined;
  };

  // where each issue stands in Ajv's order, so the folded list keeps it
  const order = new Map<AjvIssue, number>(issues.map((issue, i) => [issue, i]));
  const branchIssues = new Map<AjvIssue, AjvIssue[]>();
  const folded: AjvIssue[] = [];
  const place = (issue: AjvIssue) => {
    const owner = ownerOf(issue);
    if (!owner) folded.push(issue);
    else if (branchIssues.has(owner)) branchIssues.get(owner)!.push(issue);
    else branchIssues.set(owner, [issue]);
  };
  for (const issue of issues) if (issue.keyword !== 'anyOf') place(issue);

  const innermostFirst = [...unions.values()].sort((a, b) => (b.schemaPath ?? '').length - (a.schemaPath ?? '').length);
  for (const union of innermostFirst) {
    const own = branchIssues.get(union) ?? [];
    const branches = new Map<string, AjvIssue[]>();
    for (const issue of own) {
      const branch = issue.schemaPath!.slice(union.schemaPath!.length + 1).split('/')[0];
      if (branches.has(branch)) branches.get(branch)!.push(issue);
      else branches.set(branch, [issue]);
    }
    const kindOnly = (issue: AjvIssue) => issue.instancePath === union.instancePath && alternativeOf(issue) !== undefined;
    const fitting = [...branches.values()].find((branch) => !branch.every(kindOnly));
    let replacement: AjvIssue[];
    if (fitting || own.length === 0) {
      replacement = fitting ?? [union];
    } else {
      const alternatives = [...new Set(own.map((issue) => alternativeOf(issue)!))];
      const message = own.every((issue) => issue.keyword === 'const') ? `must be one of: ${alternatives.join(', ')}` : `must be ${alternatives.join(' or ')}`;
      const summary = { instancePath: union.instancePath, schemaPath: union.schemaPath, keyword: 'alternatives', message, params: { alternatives } };
      order.set(summary, Math.min(...own.map((issue) => order.get(issue)!)));
      replacement = [summary];
    }
    unions.delete(unionKey(union.schemaPath ?? '', union.instancePath ?? ''));
    replacement.forEach(place);
  }
  return folded.sort((a, b) => order.get(a)! - order.get(b)!);
}

/** PostgreSQL stores no NUL character in text or JSONB: whatever field carried one, the input is bad. */
export const nulCharacterRefusal = () => badRequest('Text may not contain the NUL character (\\u0000)');

/** Normalises whatever reached an error handler (ours, Fastify's, a parser's) into an AppError. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const framework = error as FrameworkError;
  if (framework?.validation) {
    // a body can fail hundreds of thousands of times (issues per array item): only the first
    // are examined and listed, so neither the work nor the answer grows with it
    const examined = framework.validation.slice(0, MAX_EXAMINED_ISSUES);
    const seen = new Set<string>();
    const issues = foldUnions(examined)
      .map((issue) => issueFromAjv(issue, framework.validationContext))
      .filter((issue) => !seen.has(issue.message) && seen.add(issue.message));
    const reported = issues.slice(0, MAX_REPORTED_ISSUES);
    const more = examined.length < framework.validation.length ? 'more issues' : `${issues.length - reported.length} more issues`;
    const message = reported.map((i) => i.message).join('; ') + (reported.length < issues.length || examined.length < framework.validation.length ? `; and ${more}` : '');
    return badRequest(message, reported);
  }
  switch (framework?.code) {
    case '22021':
    case '22P05':
      return nulCharacterRefusal();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('Request body is empty but content-type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest('Request body is not valid JSON');
    // a row the request refers to went away between its check and the write (a concurrent
    // delete): the request may succeed if sent again, so it is a conflict, not a fault
    case '23503':
      return conflict('A record this request refers to was removed meanwhile; send the request again');
    // aborted for what ran beside it (a deadlock, a serialization failure), not for what it asked
    case '40P01':
    case '40001':
      return conflict('A concurrent change got in the way; send the request again');
  }
  if (error instanceof Error && MALFORMED_MULTIPART.test(error.message)) return badRequest('The multipart body is malformed or truncated');
  // SQLSTATE class 22 (data exception): a value the request carried does not fit its column
  // (an integer out of range, an impossible date): the client's mistake, not the server's
  if (framework?.code?.length === 5 && framework.code.startsWith('22')) {
    return badRequest('A value in the request is out of range or malformed');
  }
  // program_limit_exceeded: a value too large for what holds it (an index entry over ~2.7 kB)
  if (framework?.code === '54000') return badRequest('A value in the request is too long to store');
  const status = framework?.statusCode;
  if (status && status >= 400 && status < 500) {
    return new AppError(status, status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', framework.message || 'Bad request');
  }
  return new AppError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
}
