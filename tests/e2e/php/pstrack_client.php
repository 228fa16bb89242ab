<?php
// A small pstrack client as a centre's PHP system would write it, with
// nothing but PHP's curl and json extensions: as the centre, it posts the
// events of a CSV file (UTF-8, Vietnamese text) as one batch and reads a
// dossier; as an analyst, an indicator set; and it makes three calls that
// must fail (a bad request, no key, an agency outside the analyst's scope).
// It prints one JSON object with what it got; tests/e2e/http_test.py
// compares it with the gRPC API.
//
//   php pstrack_client.php BASE_URL CENTRE_TOKEN ANALYST_TOKEN EVENTS.csv DOSSIER_CODE SCOPE OUTSIDE_SCOPE

if ($argc !== 8) {
    fwrite(STDERR, "usage: php pstrack_client.php BASE_URL CENTRE_TOKEN ANALYST_TOKEN EVENTS.csv DOSSIER_CODE "
        . "SCOPE OUTSIDE_SCOPE\n");
    exit(2);
}
[, $base, $token, $analyst, $csvPath, $dossierCode, $scope, $outside] = $argv;

// One call: [HTTP status, decoded JSON body, headers].
function call(string $method, string $url, ?string $token, $body = null): array
{
    $headers = [];
    $curl = curl_init($url);
    $send = ['Accept: application/json'];
    if ($token !== null) {
        $send[] = 'Authorization: Bearer ' . $token;
    }
    curl_setopt_array($curl, [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_HEADERFUNCTION => function ($c, $line) use (&$headers) {
            $parts = explode(':', $line, 2);
            if (count($parts) === 2) {
                $headers[strtolower(trim($parts[0]))] = trim($parts[1]);
            }
            return strlen($line);
        },
    ]);
    if ($body !== null) {
        $send[] = 'Content-Type: application/json; charset=utf-8';
        curl_setopt($curl, CURLOPT_POSTFIELDS, is_string($body) ? $body : json_encode($body, JSON_UNESCAPED_UNICODE));
    }
    curl_setopt($curl, CURLOPT_HTTPHEADER, $send);
    $text = curl_exec($curl);
    if ($text === false) {
        fwrite(STDERR, "curl: " . curl_error($curl) . "\n");
        exit(1);
    }
    $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    return [$status, json_decode($text, true), $headers];
}

// The CSV: event_id,dossier_code,agency_code,procedure_code,occurred_at,kind,detail
$events = [];
$file = fopen($csvPath, 'r');
$columns = fgetcsv($file);
while (($row = fgetcsv($file)) !== false) {
    $r = array_combine($columns, $row);
    $event = [
        'eventId' => $r['event_id'],
        'dossierCode' => $r['dossier_code'],
        'agencyCode' => $r['agency_code'],
        'occurredAt' => $r['occurred_at'],
    ];
    if ($r['procedure_code'] !== '') {
        $event['procedureCode'] = $r['procedure_code'];
    }
    switch ($r['kind']) {
        case 'received':
            $event['received'] = ['channel' => $r['detail']];
            break;
        case 'supplement_requested':
            $event['supplementRequested'] = ['reason' => $r['detail']];
            break;
        case 'supplement_received':
            $event['supplementReceived'] = new stdClass();
            break;
        case 'resolved':
            $event['resolved'] = ['electronicResult' => $r['detail'] === 'electronic'];
            break;
        case 'withdrawn':
            $event['withdrawn'] = ['reason' => $r['detail']];
            break;
        default:
            fwrite(STDERR, "unknown kind {$r['kind']}\n");
            exit(1);
    }
    $events[] = $event;
}
fclose($file);

$out = [];
[$status, $body] = call('POST', "$base/v1/events:batch", $token, ['events' => $events]);
$out['batch'] = ['status' => $status, 'body' => $body];
[$status, $body] = call('GET', "$base/v1/dossiers/" . rawurlencode($dossierCode), $token);
$out['dossier'] = ['status' => $status, 'body' => $body];
[$status, $body] = call('GET', "$base/v1/agencies/" . rawurlencode($scope)
    . "/indicators?period.label=2025&indicatorIds=received&indicatorIds=online_submission_rate"
    . "&asOf=2026-01-01T00:00:00Z", $analyst);
$out['indicators'] = ['status' => $status, 'body' => $body];
[$status, $body] = call('POST', "$base/v1/events:batch", $token, '{"events": [{"eventId": 7');
$out['bad_request'] = ['status' => $status, 'body' => $body];
[$status, $body, $headers] = call('GET', "$base/v1/agencies/" . rawurlencode($scope), null);
$out['no_key'] = ['status' => $status, 'body' => $body, 'www_authenticate' => $headers['www-authenticate'] ?? null];
[$status, $body] = call('GET', "$base/v1/agencies/" . rawurlencode($outside) . "/indicators?period.label=2025",
    $analyst);
$out['out_of_scope'] = ['status' => $status, 'body' => $body];

echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT), "\n";
