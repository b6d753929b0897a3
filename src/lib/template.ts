/** What a message template can refer to. */
export interface TemplateLead {
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  additional_info: Record<string, unknown> | null;
}

/**
 * Fills `{{firstName}}`, `{{lastName}}`, `{{name}}` and any additionalInfo key (whitespace
 * inside the braces is allowed). A missing or null value renders empty, so a template never
 * leaks its placeholders to a lead.
 */
export function renderTemplate(template: string, lead: TemplateLead): string {
  const fullName = lead.name ?? ([lead.first_name, lead.last_name].filter(Boolean).join(' ') || null);
  const builtIn: Record<string, string | null> = { firstName: lead.first_name, lastName: lead.last_name, name: fullName };
  return template.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_match, key: string) => {
    const value = Object.hasOwn(builtIn, key) ? builtIn[key] : lead.additional_info?.[key];
    if (value === null || value === undefined) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
