// The cached reads of the demo CRM the gateway scenarios spread their load over: every
// (tool, id) pair of the seeded data (40 jobs × 4 reads + 25 contacts × 2 reads = 210 keys).
export interface ReadCall {
  tool: string;
  args: Record<string, unknown>;
}

const JOBS = 40;
const CONTACTS = 25;

export function demoKeyspace(limit: number): ReadCall[] {
  const out: ReadCall[] = [];
  for (let i = 1; i <= JOBS; i++) out.push({ tool: 'get_job', args: { id: `job-${i}` } });
  for (let i = 1; i <= CONTACTS; i++) out.push({ tool: 'get_contact', args: { id: `contact-${i}` } });
  for (let i = 1; i <= JOBS; i++) out.push({ tool: 'list_job_activities', args: { id: `job-${i}` } });
  for (let i = 1; i <= JOBS; i++) out.push({ tool: 'list_job_estimates', args: { id: `job-${i}` } });
  for (let i = 1; i <= JOBS; i++) out.push({ tool: 'list_job_attachments', args: { id: `job-${i}` } });
  for (let i = 1; i <= CONTACTS; i++) out.push({ tool: 'list_contact_jobs', args: { id: `contact-${i}` } });
  return out.slice(0, Math.max(1, limit));
}

export const DEMO_JOBS = JOBS;
