// A schedule's next fire times, in the user's language.
import { formatDateTime, useLanguage, type Translate } from '../i18n/index.js';

/** The next fire times, as times the user reads in their language; a paused schedule's say they wait for a resume. */
export function NextFires({ times, limit, paused, t }: { times: string[]; limit?: number; paused: boolean; t: Translate }) {
  const language = useLanguage();
  if (times.length === 0) return <span className="muted">{t('schedules.noNextFire')}</span>;
  return (
    // Temporal keeps computing the times of a paused schedule: they are shown, greyed, as what a resume would bring.
    <ul className={paused ? 'next-fires muted' : 'next-fires'} title={paused ? t('schedules.pausedFires') : undefined}>
      {times.slice(0, limit).map((time) => (
        <li key={time}>
          <time dateTime={time}>{formatDateTime(language, time)}</time>
        </li>
      ))}
    </ul>
  );
}
