// A schedule's next fire times, in the user's language.
import { formatDateTime, useLanguage, type Translate } from '../i18n/index.js';

/** The next fire times, as times the user reads in their language. */
export function NextFires({ times, limit, t }: { times: string[]; limit?: number; t: Translate }) {
  const language = useLanguage();
  if (times.length === 0) return <span className="muted">{t('schedules.noNextFire')}</span>;
  return (
    <ul className="next-fires">
      {times.slice(0, limit).map((time) => (
        <li key={time}>
          <time dateTime={time}>{formatDateTime(language, time)}</time>
        </li>
      ))}
    </ul>
  );
}
