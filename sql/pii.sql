-- pii: personal data in responses, validated by checksum where one exists,
-- each type with a real-looking positive and a near-miss.
SELECT r.rule_id,
	   r.data_type,
	   (SELECT s.evidence FROM aiguard_scan(r.match_examples[1], 'response') s
		 WHERE s.rule_id = r.rule_id LIMIT 1)::varchar(64) AS positive_masked,
	   (SELECT count(*) FROM aiguard_scan(r.nomatch_examples[1], 'response') s
		 WHERE s.rule_id = r.rule_id) AS near_miss_hits
  FROM aiguard.rules r
 WHERE r.alert_type = 'sensitive_data_exposure'
 ORDER BY r.rule_id COLLATE "C";

CREATE FUNCTION pii(t text) RETURNS TABLE (data_type text, evidence text, severity aiguard.severity)
LANGUAGE sql AS $$
	SELECT details->>'data_type', evidence, severity FROM aiguard_scan(t, 'response')
	 WHERE alert_type = 'sensitive_data_exposure' ORDER BY start_pos
$$;
-- payment cards: Luhn decides
SELECT * FROM pii('Card on file: 4539 1488 0343 6467, exp 04/27.');
SELECT * FROM pii('Card on file: 4539 1488 0343 6468, exp 04/27.');
-- IBAN: mod 97 decides
SELECT * FROM pii('Wire it to GB75 FJRD 6016 1331 9268 20 please.');
SELECT * FROM pii('Wire it to GB75 FJRD 6016 1331 9268 21 please.');
-- the registry's example IBANs are documentation, not anyone's account
SELECT count(*) AS findings FROM pii('Validate GB82 WEST 1234 5698 7654 32 and DE89 3704 0044 0532 0130 00 in your tests.');
-- US SSN: area, group and serial rules
SELECT * FROM pii('His SSN is 536-22-8726.');
SELECT * FROM pii('His SSN is 666-22-8726, or 000-12-3456, or 536-00-8726.');
-- email, phone, IP
SELECT * FROM pii('Write to jane.doe@northwind-mail.com or call +1 415-274-0199.');
SELECT * FROM pii('Her home router is at 81.2.69.160; 10.0.0.1 and 127.0.0.1 are private.');
-- not personal data: versions, dates, prices, order numbers
SELECT count(*) AS findings FROM pii('Version 2.14.3 shipped on 2024-05-06 for $1,299.00, order 20240506-1182.');
-- nor a four-part version or section number written like an address, while
-- an address with a number of 40 or more is one
SELECT * FROM pii('Git 1.8.1.1 fixed it (see section 23.3.1.1 and numpy==1.24.3.1); ssh admin@5.39.87.12 failed.');
-- nor the addresses of a function or a list (a support bot quotes them all day)
SELECT count(*) AS findings FROM pii('Write to support@northwind-mail.com, report bugs to bug-tracker@northwind-mail.com; mail from noreply@northwind-mail.com is automatic.');
-- nor the test card numbers payment providers publish for developers
SELECT count(*) AS findings FROM pii('In test mode pay with 4242 4242 4242 4242 (Visa) or 5555555555554444 (Mastercard); 4111111111111111 works with Braintree.');
-- nor a toll-free line, a business's by design, nor the 555 numbers of
-- examples and fiction; a person's number still is
SELECT * FROM pii('Call us free on 1-800-555-0134 or 0800 123 4567 (not (555) 123-4567), or ask Jane on (602) 274-0183.');
-- a value inside a longer one of another kind is part of it: the account
-- digits of an IBAN are not also a phone number
SELECT * FROM pii('Pay into NL64 ABNA 0417 1643 01, or ring 020 7946 0958.');
DROP FUNCTION pii(text);
