// The app's own bot account (`<slug>[bot]`): the only author whose marked comments are ours, and
// the only pusher whose pushes are ignored. Looked up once per app (GET /app with the app's JWT,
// only when a Bot account actually has to be told apart) and cached; a failed look-up is retried.

/** What GitHub sends as `user` / `sender` (comments, webhooks); only these two fields matter here. */
export interface GitHubUser {
  login?: string | null;
  type?: string | null;
}

export interface OwnBot {
  /** `<slug>[bot]`. */
  login(): Promise<string>;
  /** True only for this app's bot account; false for people, other apps' bots, or no user. */
  isOwn(user: GitHubUser | null | undefined): Promise<boolean>;
}

/** What the lookup needs: an Octokit authenticated as the app (Probot's `app.auth()`). */
export interface AppClient {
  request(route: "GET /app"): Promise<{ data: { slug?: string } | null }>;
}

export function ownBotAccount(appClient: () => Promise<AppClient>): OwnBot {
  let cached: Promise<string> | undefined;
  const login = () => {
    cached ??= appClient()
      .then((o) => o.request("GET /app"))
      .then(({ data }) => {
        if (!data?.slug) throw new Error("GET /app answered without the app's slug");
        return `${data.slug}[bot]`;
      })
      .catch((err: unknown) => {
        cached = undefined;
        throw err;
      });
    return cached;
  };
  return {
    login,
    async isOwn(user) {
      // A person can never be the app; only a Bot account costs the (one) look-up.
      if (user?.type !== "Bot" || !user.login) return false;
      return user.login.toLowerCase() === (await login()).toLowerCase();
    },
  };
}

