/** What a message template can refer to. */
export interface TemplateLead {
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  additional_info: Record<string, unknown> | null;
}

/** The longest message a template renders to: the longest a client may send (`content`). */
export const MAX_MESSAGE_LENGTH = 10_000;

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/**
 * Fills `{{firstName}}`, `{{lastName}}`, `{{name}}` and any additionalInfo key (whitespace
 * inside the braces is allowed). A missing or null value renders empty, so a template never
 * leaks its placeholders to a lead. The result stops at MAX_MESSAGE_LENGTH characters: a
 * 5,000-character template of placeholders for a 64 KiB custom field would otherwise render
 * hundreds of megabytes, and fail every batch it is written in.
 */
export function renderTemplate(template: string, lead: TemplateLead): string {
  const fullName = lead.name ?? ([lead.first_name, lead.last_name].filter(Boolean).join(' ') || null);
  const builtIn: Record<string, string | null> = { firstName: lead.first_name, lastName: lead.last_name, name: fullName };
  const valueOf = (key: string) => {
    const value = Object.hasOwn(builtIn, key) ? builtIn[key] : lead.additional_info?.[key];
    if (value === null || value === undefined) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  let rendered = '';
  let from = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    rendered += template.slice(from, match.index) + valueOf(match[1]);
    from = match.index + match[0].length;
    if (rendered.length >= MAX_MESSAGE_LENGTH) return cut(rendered);
  }
  return cut(rendered + template.slice(from));
}

/** At most MAX_MESSAGE_LENGTH UTF-16 units, never half a surrogate pair (the database refuses those in JSON). */
function cut(text: string): string {
  if (text.length <= MAX_MESSAGE_LENGTH) return text;
  const lastKept = text.charCodeAt(MAX_MESSAGE_LENGTH - 1);
  return text.slice(0, lastKept >= 0xd800 && lastKept <= 0xdbff ? MAX_MESSAGE_LENGTH - 1 : MAX_MESSAGE_LENGTH);
}
