-- What is blocked, for which team, and for how long. Readable by the analyst role.
SELECT owner_team,
       kind,
       severity,
       count(*)                 AS open,
       sum(occurrences)         AS occurrences,
       min(first_seen_at)       AS oldest,
       max(last_seen_at)        AS latest
FROM report.exceptions
WHERE status = 'open'
GROUP BY owner_team, kind, severity
ORDER BY owner_team, open DESC;
