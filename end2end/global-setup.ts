// Waits until the portal answers before the first test (cargo-leptos starts it just before).
export default async function globalSetup() {
  const url = process.env.PORTAL_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the portal did not answer at ${url} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
