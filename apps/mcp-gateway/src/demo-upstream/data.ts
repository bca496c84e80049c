/**
 * Deterministic seed data of the demo CRM. The same seed gives the same data on
 * every run (a small mulberry32 PRNG, a fixed base date), so tests and the load
 * tester can rely on ids such as `job-1` or `contact-3` existing.
 */

export interface User {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'technician' | 'sales';
  api_key: string;
}
export interface Contact {
  id: string;
  name: string;
  email: string;
  phone: string;
  company: string;
  created_at: string;
  updated_at: string;
}
export type JobStatus = 'lead' | 'scheduled' | 'in_progress' | 'completed' | 'cancelled';
export interface Job {
  id: string;
  title: string;
  status: JobStatus;
  contact_id: string;
  assigned_user_id: string;
  address: string;
  scheduled_for: string;
  created_at: string;
  updated_at: string;
}
export interface Estimate {
  id: string;
  job_id: string;
  amount_cents: number;
  status: 'draft' | 'sent' | 'accepted' | 'declined';
  lines: { description: string; amount_cents: number }[];
  created_at: string;
  updated_at: string;
}
export interface Attachment {
  id: string;
  job_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  created_at: string;
}
export interface Activity {
  id: string;
  job_id: string;
  user_id: string;
  kind: 'note' | 'call' | 'email' | 'status_change';
  text: string;
  created_at: string;
}
export interface Task {
  id: string;
  job_id: string | null;
  assignee_id: string;
  title: string;
  status: 'open' | 'done';
  due_at: string;
  created_at: string;
  updated_at: string;
}
export interface CalendarEvent {
  id: string;
  user_id: string;
  job_id: string | null;
  title: string;
  starts_at: string;
  ends_at: string;
}
export interface WebhookRegistration {
  id: string;
  url: string;
  secret: string;
  events: string[];
  created_at: string;
}

export interface CrmData {
  users: User[];
  contacts: Contact[];
  jobs: Job[];
  estimates: Estimate[];
  attachments: Attachment[];
  activities: Activity[];
  tasks: Task[];
  calendar: CalendarEvent[];
  webhooks: WebhookRegistration[];
}

export interface SeedOptions {
  /** PRNG seed (default 42). */
  seed?: number;
  /** Number of jobs (default 40). */
  jobs?: number;
  /** Number of contacts (default 25). */
  contacts?: number;
}

/** Fixed "now" of the seed so dates are stable across runs. */
export const SEED_BASE_DATE = Date.UTC(2026, 0, 5, 9, 0, 0);

/** API keys accepted by the demo upstream, one per seeded user. */
export const DEMO_API_KEYS = {
  admin: 'demo-key-admin',
  alice: 'demo-key-alice',
  bob: 'demo-key-bob',
} as const;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman'];
const COMPANIES = ['Acme Roofing', 'Globex', 'Initech', 'Umbrella Plumbing', 'Stark Electric', 'Wayne HVAC', 'Hooli'];
const JOB_KINDS = ['Roof repair', 'Boiler service', 'Kitchen rewiring', 'Window replacement', 'Leak inspection', 'Solar install'];
const STREETS = ['Main St', 'High St', 'Oak Ave', 'Elm Rd', 'Station Rd', 'Mill Lane'];
const STATUSES: JobStatus[] = ['lead', 'scheduled', 'in_progress', 'completed', 'cancelled'];

const iso = (ms: number): string => new Date(ms).toISOString();

/** Builds the deterministic demo data set. */
export function seedCrm(opts: SeedOptions = {}): CrmData {
  const rnd = mulberry32(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (min: number, max: number): number => min + Math.floor(rnd() * (max - min + 1));
  const hour = 3_600_000;
  const day = 24 * hour;

  const users: User[] = [
    { id: 'user-1', name: 'Admin Ada', email: 'ada@example.test', role: 'admin', api_key: DEMO_API_KEYS.admin },
    { id: 'user-2', name: 'Alice Tech', email: 'alice@example.test', role: 'technician', api_key: DEMO_API_KEYS.alice },
    { id: 'user-3', name: 'Bob Sales', email: 'bob@example.test', role: 'sales', api_key: DEMO_API_KEYS.bob },
  ];

  const contacts: Contact[] = [];
  for (let i = 1; i <= (opts.contacts ?? 25); i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const created = SEED_BASE_DATE - int(30, 400) * day;
    contacts.push({
      id: `contact-${i}`,
      name: `${first} ${last}`,
      email: `${first}.${last}${i}@example.test`.toLowerCase(),
      phone: `+44 20 7946 ${String(int(0, 9999)).padStart(4, '0')}`,
      company: pick(COMPANIES),
      created_at: iso(created),
      updated_at: iso(created),
    });
  }

  const jobs: Job[] = [];
  const estimates: Estimate[] = [];
  const attachments: Attachment[] = [];
  const activities: Activity[] = [];
  const tasks: Task[] = [];
  const calendar: CalendarEvent[] = [];
  for (let i = 1; i <= (opts.jobs ?? 40); i++) {
    const contact = pick(contacts);
    const user = pick(users.slice(1));
    const created = SEED_BASE_DATE - int(1, 120) * day;
    const scheduled = SEED_BASE_DATE + int(-20, 40) * day + int(8, 16) * hour;
    const job: Job = {
      id: `job-${i}`,
      title: `${pick(JOB_KINDS)} at ${int(1, 200)} ${pick(STREETS)}`,
      status: pick(STATUSES),
      contact_id: contact.id,
      assigned_user_id: user.id,
      address: `${int(1, 200)} ${pick(STREETS)}, London`,
      scheduled_for: iso(scheduled),
      created_at: iso(created),
      updated_at: iso(created),
    };
    jobs.push(job);
    const nEst = int(0, 2);
    for (let e = 0; e < nEst; e++) {
      const lines = [
        { description: 'Labour', amount_cents: int(100, 900) * 100 },
        { description: 'Materials', amount_cents: int(50, 700) * 100 },
      ];
      estimates.push({
        id: `estimate-${estimates.length + 1}`,
        job_id: job.id,
        amount_cents: lines.reduce((s, l) => s + l.amount_cents, 0),
        status: pick(['draft', 'sent', 'accepted', 'declined'] as const),
        lines,
        created_at: iso(created + day),
        updated_at: iso(created + day),
      });
    }
    const nAtt = int(0, 3);
    for (let a = 0; a < nAtt; a++) {
      attachments.push({
        id: `attachment-${attachments.length + 1}`,
        job_id: job.id,
        filename: `photo-${i}-${a + 1}.jpg`,
        content_type: 'image/jpeg',
        size_bytes: int(50_000, 4_000_000),
        created_at: iso(created + 2 * day),
      });
    }
    const nAct = int(1, 4);
    for (let a = 0; a < nAct; a++) {
      activities.push({
        id: `activity-${activities.length + 1}`,
        job_id: job.id,
        user_id: pick(users).id,
        kind: pick(['note', 'call', 'email', 'status_change'] as const),
        text: pick(['Called the customer', 'Sent the estimate', 'Parts ordered', 'Customer asked to reschedule', 'Site visit done']),
        created_at: iso(created + a * hour),
      });
    }
    if (rnd() < 0.6) {
      tasks.push({
        id: `task-${tasks.length + 1}`,
        job_id: job.id,
        assignee_id: user.id,
        title: pick(['Order parts', 'Confirm appointment', 'Upload photos', 'Chase payment']),
        status: rnd() < 0.7 ? 'open' : 'done',
        due_at: iso(scheduled - day),
        created_at: iso(created),
        updated_at: iso(created),
      });
    }
    calendar.push({
      id: `event-${calendar.length + 1}`,
      user_id: user.id,
      job_id: job.id,
      title: job.title,
      starts_at: iso(scheduled),
      ends_at: iso(scheduled + 2 * hour),
    });
  }

  return { users, contacts, jobs, estimates, attachments, activities, tasks, calendar, webhooks: [] };
}
