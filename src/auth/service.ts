// Dashboard users, sessions and API tokens. Session cookies and API tokens are random values;
// only their sha256 is stored, so the database alone does not let anyone in.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../errors.js';
import type { ApiToken } from '../store/api-tokens.js';
import type { DashboardUser, DashboardUserRepo } from '../store/dashboard-users.js';
import type { Repositories } from '../store/repositories.js';
import { parseInput } from '../validation.js';
import { ROLE_SCOPES, tokenCreate, type TokenCreate, type TokenView } from '../api/routes/tokens/schema.js';
import {
  roleSchema,
  userCreate,
  type PublicUser,
  type SessionView,
  type UserCreate,
} from '../api/routes/users/schema.js';
import { checkPasswordPolicy, generatePassword, hashPassword, verifyPassword } from './passwords.js';

export type { PublicUser } from '../api/routes/users/schema.js';

export const API_TOKEN_PREFIX = 'idst_';
/** A session may create API tokens this long after its password was typed. */
export const RECENT_PASSWORD_MINUTES = 10;
const TOUCH_EVERY_MS = 5_000;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

const toPublicUser = (u: DashboardUser): PublicUser => ({
  id: u.id,
  email: u.email,
  role: u.role,
  createdAt: u.createdAt.getTime(),
  lastLoginAt: u.lastLoginAt?.getTime() ?? null,
});

const toPublicToken = (t: ApiToken): TokenView => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  createdAt: t.createdAt.getTime(),
  lastUsedAt: t.lastUsedAt?.getTime() ?? null,
  expiresAt: t.expiresAt?.getTime() ?? null,
  scopes: t.scopes,
});

export interface Authenticated {
  user: PublicUser;
  via: 'session' | 'token';
  /** sha256 of the session cookie (sessions) or the token id (API tokens). */
  credentialId: string;
  /** An API token's scopes (a session may do all its role allows). */
  scopes?: readonly string[];
}

export interface AuthSettings {
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  /** Failed sign-ins allowed per account in LOCKOUT_WINDOW_MS before attempts are refused. */
  loginLimitPerAccount: number;
}

const LOCKOUT_WINDOW_MS = 15 * 60_000;
const MAX_TRACKED_ACCOUNTS = 10_000;

/**
 * Counts failed sign-ins per account. @fastify/rate-limit counts every request, successes too,
 * which would let anyone keep an admin locked out with a few requests; this counts failures
 * only, a success clears the count, and it runs on the injectable clock.
 */
function createFailureCounter(clock: Clock, limit: number) {
  const failures = new Map<string, { count: number; resetAt: number }>();
  const current = (key: string) => {
    const entry = failures.get(key);
    if (entry && clock.now() >= entry.resetAt) failures.delete(key);
    return failures.get(key);
  };
  return {
    /** Seconds until the account may try again, or 0. */
    blockedFor(key: string): number {
      const entry = current(key);
      return entry && entry.count >= limit ? Math.ceil((entry.resetAt - clock.now()) / 1000) : 0;
    },
    fail(key: string): void {
      const entry = current(key);
      if (entry) entry.count++;
      else {
        if (failures.size >= MAX_TRACKED_ACCOUNTS) failures.delete(failures.keys().next().value!);
        failures.set(key, { count: 1, resetAt: clock.now() + LOCKOUT_WINDOW_MS });
      }
    },
    succeed: (key: string) => void failures.delete(key),
  };
}

export function createAuthService(deps: {
  store: Pick<Repositories, 'users' | 'sessions' | 'apiTokens' | 'transaction'>;
  clock: Clock;
  settings: AuthSettings;
}) {
  const { users, sessions, apiTokens: tokens } = deps.store;
  const idleMs = deps.settings.sessionIdleMinutes * 60_000;
  const maxMs = deps.settings.sessionMaxHours * 3_600_000;
  // Verified against when the email is unknown, so both failures take the same time.
  const dummyHash = hashPassword(generatePassword());
  const loginFailures = createFailureCounter(deps.clock, deps.settings.loginLimitPerAccount);

  async function userOrThrow(id: string): Promise<DashboardUser> {
    const u = await users.byId(id);
    if (!u) throw new NotFoundError(`no dashboard user with id ${id}`);
    return u;
  }

  /** Runs a change to `id` unless it would leave idsight without an admin. */
  async function keepingAnAdmin(
    id: string,
    action: string,
    change: (repo: DashboardUserRepo) => Promise<void>,
  ): Promise<DashboardUser> {
    return deps.store.transaction(async ({ users: repo }) => {
      const admins = await repo.lockAdmins();
      const target = await repo.byId(id);
      if (!target) throw new NotFoundError(`no dashboard user with id ${id}`);
      if (target.role === 'admin' && admins.length <= 1) {
        throw new ConflictError(
          `cannot ${action} ${target.email}: it is the only admin, and idsight must keep at least one`,
        );
      }
      await change(repo);
      return target;
    });
  }

  return {
    async createUser(input: UserCreate): Promise<{ user: PublicUser; generatedPassword?: string }> {
      const { email, role, password: given } = parseInput(userCreate, input);
      let generatedPassword: string | undefined;
      let password: string;
      if (given === undefined || given === null) {
        password = generatedPassword = generatePassword();
      } else {
        password = given;
        checkPasswordPolicy(password);
      }
      if (await users.byEmail(email)) throw new ConflictError(`a dashboard user with email ${email} already exists`);
      const id = randomUUID();
      try {
        await users.insert({ id, email, passwordHash: await hashPassword(password), role, now: deps.clock.now() });
      } catch (err) {
        if (await users.byEmail(email)) throw new ConflictError(`a dashboard user with email ${email} already exists`);
        throw err;
      }
      const user = toPublicUser(await userOrThrow(id));
      return generatedPassword ? { user, generatedPassword } : { user };
    },

    listUsers: async (): Promise<PublicUser[]> => (await users.list()).map(toPublicUser),

    isDashboardUser: async (email: string): Promise<boolean> => (await users.byEmail(email)) !== undefined,

    async findUser(idOrEmail: string): Promise<PublicUser> {
      const u = idOrEmail.includes('@')
        ? await users.byEmail(idOrEmail.trim().toLowerCase())
        : await users.byId(idOrEmail);
      if (!u) throw new NotFoundError(`no dashboard user ${idOrEmail}`);
      return toPublicUser(u);
    },

    async setRole(id: string, roleInput: unknown): Promise<PublicUser> {
      const role = parseInput(roleSchema, roleInput);
      const current = await userOrThrow(id);
      if (current.role === role) return toPublicUser(current);
      await keepingAnAdmin(id, 'change the role of', (repo) =>
        repo.setRole(id, role, deps.clock.now()).then(() => undefined),
      );
      // A changed role takes effect at once: sessions and tokens made under the old role end.
      await sessions.removeForUser(id);
      await tokens.removeForUser(id);
      return toPublicUser(await userOrThrow(id));
    },

    async removeUser(id: string): Promise<PublicUser> {
      // sessions and tokens go with the user (foreign keys cascade)
      const target = await keepingAnAdmin(id, 'remove', (repo) => repo.remove(id).then(() => undefined));
      return toPublicUser(target);
    },

    /** A new password ends the user's sessions and revokes their API tokens (a reset after a compromise must lock the intruder out). */
    async setPassword(id: string, password: string): Promise<{ tokensRevoked: number }> {
      checkPasswordPolicy(password);
      await userOrThrow(id);
      await users.setPasswordHash(id, await hashPassword(password), deps.clock.now());
      await sessions.removeForUser(id);
      return { tokensRevoked: await tokens.removeForUser(id) };
    },

    /** Same error, same work, for an unknown email and a wrong password. */
    /** `replaces`: the session cookie the browser already held, which this sign-in ends. */
    async login(input: {
      email: string;
      password: string;
      ip: string | null;
      userAgent: string | null;
      replaces?: string | undefined;
    }) {
      const email = input.email.trim().toLowerCase();
      const wait = loginFailures.blockedFor(email);
      if (wait > 0)
        throw new AppError(
          'rate_limited',
          `too many failed sign-in attempts for this account: try again in ${wait} seconds`,
          429,
        );
      const user = await users.byEmail(email);
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), input.password);
      if (!user || !ok) {
        loginFailures.fail(email);
        throw new UnauthenticatedError('email or password is incorrect');
      }
      loginFailures.succeed(email);
      if (input.replaces) await sessions.remove(sha256(input.replaces));
      const token = randomBytes(32).toString('base64url');
      const now = deps.clock.now();
      await sessions.insert({
        tokenHash: sha256(token),
        userId: user.id,
        createdAt: new Date(now),
        lastSeenAt: new Date(now),
        expiresAt: new Date(now + maxMs),
        ip: input.ip,
        userAgent: input.userAgent?.slice(0, 512) ?? null,
      });
      await users.touchLogin(user.id, now);
      return {
        user: toPublicUser({ ...user, lastLoginAt: new Date(now) }),
        sessionToken: token,
        sessionHash: sha256(token),
      };
    },

    async authenticateSession(token: string): Promise<Authenticated> {
      const hash = sha256(token);
      const session = await sessions.byHash(hash);
      if (!session)
        throw new UnauthenticatedError(
          'your session is not valid (signed out, replaced or tampered with): sign in again',
        );
      const now = deps.clock.now();
      const expired = now >= session.expiresAt.getTime();
      if (expired || now - session.lastSeenAt.getTime() >= idleMs) {
        await sessions.remove(hash);
        throw new UnauthenticatedError(
          expired
            ? `your session reached its ${deps.settings.sessionMaxHours}-hour limit: sign in again`
            : `your session expired after ${deps.settings.sessionIdleMinutes} minutes without activity: sign in again`,
        );
      }
      if (now - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await sessions.touch(hash, now);
      const user = await users.byId(session.userId);
      if (!user) throw new UnauthenticatedError('your account no longer exists');
      return { user: toPublicUser(user), via: 'session', credentialId: hash };
    },

    logout: (sessionHash: string) => sessions.remove(sessionHash),

    /** A user's sessions, oldest first (for admins: who is signed in, from where). */
    async listSessions(userId: string): Promise<SessionView[]> {
      await userOrThrow(userId);
      return (await sessions.listForUser(userId)).map((x) => ({
        createdAt: x.createdAt.getTime(),
        lastSeenAt: x.lastSeenAt.getTime(),
        expiresAt: x.expiresAt.getTime(),
        ip: x.ip,
        userAgent: x.userAgent,
      }));
    },

    /** Signs the user out everywhere; how many sessions ended. */
    async endSessions(userId: string): Promise<number> {
      await userOrThrow(userId);
      return sessions.removeForUser(userId);
    },

    pruneSessions: () => sessions.removeStale(deps.clock.now(), idleMs),

    /**
     * A token is made by someone who has just proved who they are: a session whose password was
     * typed minutes ago (`sessionHash`), or the CLI on the server itself. Never by a token: one
     * stolen must not mint others that outlive its revocation.
     */
    async createApiToken(
      userId: string,
      input: TokenCreate,
      by: { sessionHash: string } | 'cli',
    ): Promise<{ token: string; info: TokenView }> {
      const { name, expiresInDays: days, scopes } = parseInput(tokenCreate, input);
      if (by !== 'cli') {
        const session = await sessions.byHash(by.sessionHash);
        if (!session || deps.clock.now() - session.createdAt.getTime() > RECENT_PASSWORD_MINUTES * 60_000)
          throw new ForbiddenError(
            `creating an API token needs a recent password: sign in again, then create it within ${RECENT_PASSWORD_MINUTES} minutes`,
          );
      }
      const owner = await userOrThrow(userId);
      const beyond = scopes.filter((x) => !ROLE_SCOPES[owner.role].includes(x));
      if (beyond.length > 0)
        throw new ValidationError(
          `scopes: ${beyond.join(', ')} ${beyond.length > 1 ? 'are' : 'is'} beyond the ${owner.role} role, ` +
            `whose tokens may have ${ROLE_SCOPES[owner.role].join(', ')}`,
        );
      const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const now = deps.clock.now();
      const created: ApiToken = {
        id: randomUUID(),
        userId,
        name,
        prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
        tokenHash: sha256(token),
        createdAt: new Date(now),
        lastUsedAt: null,
        expiresAt: new Date(now + days * 86_400_000),
        scopes: [...new Set(scopes)],
      };
      await tokens.insert(created);
      return { token, info: toPublicToken(created) };
    },

    async authenticateToken(token: string): Promise<Authenticated> {
      const found = token.startsWith(API_TOKEN_PREFIX) ? await tokens.byHash(sha256(token)) : undefined;
      if (!found) throw new UnauthenticatedError('the API token is not valid (unknown or revoked)');
      const now = deps.clock.now();
      if (found.expiresAt !== null && now >= found.expiresAt.getTime())
        throw new UnauthenticatedError(`the API token "${found.name}" expired: create a new one`);
      const user = await users.byId(found.userId);
      if (!user) throw new UnauthenticatedError('the API token belongs to a removed account');
      if (found.lastUsedAt === null || now - found.lastUsedAt.getTime() >= TOUCH_EVERY_MS)
        await tokens.touch(found.id, now);
      return { user: toPublicUser(user), via: 'token', credentialId: found.id, scopes: found.scopes };
    },

    listApiTokens: async (userId: string): Promise<TokenView[]> =>
      (await tokens.listForUser(userId)).map(toPublicToken),

    async revokeApiToken(userId: string, tokenId: string): Promise<void> {
      if (!(await tokens.remove(tokenId, userId))) throw new NotFoundError(`no API token ${tokenId} of this user`);
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
