// A run report as CSV (one row per runbook and environment) or as a PDF
// document, in the reader's language.
import PDFDocument from 'pdfkit';
import { humanDuration, type RunbookReport, type RunReport } from './run-report.js';

export type ReportLanguage = 'en' | 'pt-BR';

interface ReportLabels {
  title: string;
  range: string;
  generated: string;
  none: string;
  runbook: string;
  environment: string;
  runs: string;
  succeeded: string;
  failed: string;
  cancelled: string;
  rejected: string;
  successRate: string;
  p50: string;
  p95: string;
  mttr: string;
  approvalWait: string;
  failuresByStep: string;
}

export const REPORT_LABELS: Record<ReportLanguage, ReportLabels> = {
  en: {
    title: 'Run report',
    range: 'From {from} to {to} (UTC)',
    generated: 'Generated at {at}',
    none: 'No runs in this range.',
    runbook: 'Runbook',
    environment: 'Environment',
    runs: 'Runs',
    succeeded: 'Succeeded',
    failed: 'Failed',
    cancelled: 'Cancelled',
    rejected: 'Rejected',
    successRate: 'Success rate',
    p50: 'p50 duration',
    p95: 'p95 duration',
    mttr: 'Mean time to recovery',
    approvalWait: 'Approval wait (mean)',
    failuresByStep: 'Failures by step',
  },
  'pt-BR': {
    title: 'Relatório de execuções',
    range: 'De {from} até {to} (UTC)',
    generated: 'Gerado em {at}',
    none: 'Nenhuma execução neste período.',
    runbook: 'Runbook',
    environment: 'Ambiente',
    runs: 'Execuções',
    succeeded: 'Sucesso',
    failed: 'Falhas',
    cancelled: 'Canceladas',
    rejected: 'Rejeitadas',
    successRate: 'Taxa de sucesso',
    p50: 'Duração p50',
    p95: 'Duração p95',
    mttr: 'Tempo médio de recuperação',
    approvalWait: 'Espera por aprovação (média)',
    failuresByStep: 'Falhas por passo',
  },
};

export const CSV_COLUMNS = [
  'runbook',
  'environment',
  'runs',
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
  'success_rate',
  'p50_ms',
  'p95_ms',
  'mttr_ms',
  'approval_wait_mean_ms',
  'approval_wait_p95_ms',
  'failures_by_step',
] as const;

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  // Quoted when needed, and a leading formula character defused for spreadsheets.
  const safe = /^[=+\-@]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function reportToCsv(report: RunReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of report.rows) {
    lines.push(
      [
        row.runbook,
        row.environment,
        row.runs,
        row.succeeded,
        row.failed,
        row.cancelled,
        row.rejected,
        row.successRate === null ? null : Number(row.successRate.toFixed(4)),
        row.p50Ms,
        row.p95Ms,
        row.mttrMs,
        row.approvalWaiting.meanMs,
        row.approvalWaiting.p95Ms,
        row.failuresByStep.map((entry) => `${entry.stepId}:${entry.count}`).join(' '),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');

function tableCells(row: RunbookReport): string[] {
  return [
    row.runbook,
    row.environment,
    String(row.runs),
    String(row.succeeded),
    String(row.failed),
    percent(row.successRate),
    humanDuration(row.p50Ms),
    humanDuration(row.p95Ms),
    humanDuration(row.mttrMs),
    humanDuration(row.approvalWaiting.meanMs),
  ];
}

/** The PDF as a buffer: a title, the range, then a table of the figures per runbook and the failures by step. */
export async function reportToPdf(report: RunReport, language: ReportLanguage, now = new Date()): Promise<Buffer> {
  const labels = REPORT_LABELS[language];
  const doc = new PDFDocument({ size: 'A4', layout: 'landscape', margin: 36, info: { Title: labels.title } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).text(labels.title);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(fill(labels.range, { from: report.from.replace('T', ' ').slice(0, 16), to: report.to.replace('T', ' ').slice(0, 16) }));
  doc.text(fill(labels.generated, { at: now.toISOString().replace('T', ' ').slice(0, 16) }));
  doc.moveDown();

  if (report.rows.length === 0) {
    doc.text(labels.none);
  } else {
    const headers = [labels.runbook, labels.environment, labels.runs, labels.succeeded, labels.failed, labels.successRate, labels.p50, labels.p95, labels.mttr, labels.approvalWait];
    const widths = [130, 80, 50, 55, 50, 65, 70, 70, 100, 99];
    const left = doc.page.margins.left;
    const drawRow = (cells: string[], bold: boolean): void => {
      doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
      const height = Math.max(...cells.map((cell, index) => doc.heightOfString(cell, { width: widths[index]! - 4 }))) + 4;
      if (doc.y + height > doc.page.height - doc.page.margins.bottom) {
        doc.addPage();
        // A continued table repeats its header, so every page reads on its own.
        if (!bold) drawRow(headers, true);
      }
      const top = doc.y;
      let x = left;
      cells.forEach((cell, index) => {
        doc.text(cell, x + 2, top + 2, { width: widths[index]! - 4 });
        x += widths[index]!;
      });
      doc
        .moveTo(left, top + height)
        .lineTo(x, top + height)
        .lineWidth(0.5)
        .strokeColor('#999999')
        .stroke();
      doc.x = left;
      doc.y = top + height;
    };
    drawRow(headers, true);
    for (const row of report.rows) drawRow(tableCells(row), false);

    const failing = report.rows.filter((row) => row.failuresByStep.length > 0);
    if (failing.length > 0) {
      doc.moveDown();
      doc.font('Helvetica-Bold').fontSize(12).text(labels.failuresByStep, left);
      doc.font('Helvetica').fontSize(9);
      for (const row of failing) doc.text(`${row.runbook} (${row.environment}): ${row.failuresByStep.map((entry) => `${entry.stepId} × ${entry.count}`).join(', ')}`, left);
    }
  }
  doc.end();
  return done;
}
