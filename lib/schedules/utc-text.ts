/** The UTC text both dialects keep times in: 'YYYY-MM-DD HH:MM:SS.mmm'. */
export function toUtcText(date: Date): string;
export function toUtcText(date: Date | null): string | null;
export function toUtcText(date: Date | null): string | null {
  return date ? date.toISOString().replace('T', ' ').slice(0, 23) : null;
}

/** Reads what the builders return ('YYYY-MM-DD HH:MM:SS[.f]', PostgreSQL `::text` drops trailing zeros). */
export function fromUtcText(text: string | null | undefined): Date | null {
  return text ? new Date(`${String(text).replace(' ', 'T')}Z`) : null;
}
