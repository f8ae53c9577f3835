<?php
// php_counter — PHP 8.2 + PDO (persistent connection): the same read and counter upsert as ref_counter,
// written as a PHP shop writes it: PDO's defaults (emulated prepares: one round trip per statement).
// Database from the environment: REF_DB_HOST REF_DB_PORT REF_DB_USER REF_DB_PASSWORD REF_DB_NAME, and
// REF_DB_SOCKET (the unix socket, used when set: as latchkey and the C references connect).
$dsn = getenv('REF_DB_SOCKET')
    ? sprintf('mysql:unix_socket=%s;dbname=%s', getenv('REF_DB_SOCKET'), getenv('REF_DB_NAME'))
    : sprintf('mysql:host=%s;port=%s;dbname=%s', getenv('REF_DB_HOST'), getenv('REF_DB_PORT'),
              getenv('REF_DB_NAME'));
$db = new PDO($dsn, getenv('REF_DB_USER'), getenv('REF_DB_PASSWORD'),
              [PDO::ATTR_PERSISTENT => true, PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
header('Content-Type: application/json');
$in = json_decode(file_get_contents('php://input'), true);
if (!is_array($in) || !isset($in['key'])) {
    http_response_code(400);
    echo "{\"error\":\"key\"}\n";
    exit;
}
$rd = $db->prepare('SELECT id, account_id, revoked_at, expires_at, scopes FROM api_keys WHERE digest = ?');
$rd->execute([hash('sha256', $in['key'], true)]);
$k = $rd->fetch(PDO::FETCH_NUM);
if ($k === false) {
    echo "{\"valid\":false}\n";
    exit;
}
$now = time();
$limit = 6000;
$hit = $db->prepare(
    'INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid,'
    . ' rate_limited, revoked, expired, insufficient_scope, last_valid_at)'
    . ' VALUES (?, ?, ?, ?, ?, LAST_INSERT_ID(1), ?, 0, ?, ?, ?, ?)'
    . ' ON DUPLICATE KEY UPDATE'
    . ' n = LAST_INSERT_ID(IF(win_len = VALUES(win_len) AND win_start >= VALUES(win_start), n + 1, 1)),'
    . ' win_start = IF(win_len = VALUES(win_len), GREATEST(win_start, VALUES(win_start)), VALUES(win_start)),'
    . ' win_len = VALUES(win_len),'
    . ' valid = valid + (VALUES(valid) AND n <= ?),'
    . ' rate_limited = rate_limited + (VALUES(valid) AND n > ?),'
    . ' revoked = revoked + VALUES(revoked), expired = expired + VALUES(expired),'
    . ' insufficient_scope = insufficient_scope + VALUES(insufficient_scope),'
    . ' last_valid_at = IF(VALUES(valid) AND n <= ?, VALUES(last_valid_at), last_valid_at)');
$hit->execute([$k[0], intdiv($now, 86400), $k[1], $now - $now % 60, 60, 1, 0, 0, 0, $now, $limit, $limit, $limit]);
if ((int)$db->lastInsertId() > $limit) {
    echo "{\"valid\":false,\"code\":\"RATE_LIMITED\"}\n";
    exit;
}
echo "{\"valid\":true,\"code\":\"VALID\"}\n";
