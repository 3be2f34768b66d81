// From Chromium, the time until a fleet run's page is usable: from navigation
// until its fleet view shows the step's counts and the first page of its
// target table, hydrated. Also when the counts first showed (rendered by the
// server) and when the page hydrated, to tell where the time goes. The
// browser cache is cleared before each load, as bench:web does, unless asked
// to keep it.
import type { Page, Response } from 'playwright-core';

const FIRST_PAGE = 100;

export interface FleetViewLoad {
  /** The counts shown (server-rendered HTML). */
  countsMs: number;
  /** React hydrated the page. */
  hydratedMs: number;
  /** Usable: hydrated, counts shown, and the first page of targets in the table. */
  usableMs: number;
}

/** `warm`: keep the browser cache (a returning operator); cleared otherwise. */
export async function loadFleetView(page: Page, options: { webUrl: string; runId: string; stepId: string; succeeded: number; warm?: boolean }): Promise<FleetViewLoad> {
  if (!options.warm) {
    const client = await page.context().newCDPSession(page);
    await client.send('Network.clearBrowserCache');
    await client.detach();
  }
  // What went wrong, should the view never become usable: failed responses and the panel's text.
  const failures: string[] = [];
  const onResponse = (response: Response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${new URL(response.url()).pathname}`);
  };
  page.on('response', onResponse);
  try {
    return await measureLoad(page, options);
  } catch (error) {
    const panelText = await page
      .locator(`[data-testid="fleet-${options.stepId}"]`)
      .textContent({ timeout: 1_000 })
      .catch(() => null);
    const rows = await page
      .locator(`[data-testid="fleet-${options.stepId}"] table.fleet-targets tbody tr`)
      .count()
      .catch(() => -1);
    throw new Error(
      `the fleet view never became usable (${error instanceof Error ? error.message : String(error)}); failed responses: ${failures.join(', ') || 'none'}; table rows: ${rows}; panel: ${panelText?.slice(0, 300) ?? 'absent'}`,
    );
  } finally {
    page.off('response', onResponse);
  }
}

async function measureLoad(page: Page, options: { webUrl: string; runId: string; stepId: string; succeeded: number }): Promise<FleetViewLoad> {
  const rows = Math.min(FIRST_PAGE, options.succeeded);
  const panel = `[data-testid="fleet-${options.stepId}"]`;
  const wait = { timeout: 60_000, polling: 'raf' as const };
  const begin = performance.now();
  await page.goto(`${options.webUrl}/runs/${encodeURIComponent(options.runId)}`, { waitUntil: 'commit' });
  await page.waitForFunction(
    ({ panel, succeeded }) => document.querySelector(`${panel} [data-testid=fleet-count-succeeded]`)?.textContent === String(succeeded),
    { panel, succeeded: options.succeeded },
    wait,
  );
  const countsMs = performance.now() - begin;
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === 'true', undefined, wait);
  const hydratedMs = performance.now() - begin;
  await page.waitForFunction(({ panel, rows }) => document.querySelectorAll(`${panel} table.fleet-targets tbody tr`).length === rows, { panel, rows }, wait);
  return { countsMs, hydratedMs, usableMs: performance.now() - begin };
}
