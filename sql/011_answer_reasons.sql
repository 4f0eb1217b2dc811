-- "Not interested" takes a reason from a short list, so a buyer can count why ASFs hold back
-- and the notifier can learn from "wrong service" (docs/trust.md). The free text stays: it is
-- required with 'other' and optional with the rest.
ALTER TABLE need_interest ADD COLUMN reason_code text CHECK (reason_code IN
    ('wrong_service', 'too_far', 'too_large', 'no_capacity', 'deadline_too_short', 'other'));

-- Declines given before the list existed keep their text; a code is read from it where its
-- words are plain (checked in this order), any other text becomes 'other', and a decline
-- without text keeps no code (shown as "no reason given").
UPDATE need_interest SET reason_code = CASE
    WHEN reason ~* '(fel tjänst|inte vår (bransch|verksamhet|tjänst)|inget vi (gör|erbjuder)|utanför vår verksamhet|wrong service|not our (business|service))'
        THEN 'wrong_service'
    WHEN reason ~* '(för långt|långt bort|avstånd|utanför (vårt )?(område|verksamhetsområde)|too far)'
        THEN 'too_far'
    WHEN reason ~* '(för stor|för omfattande|för mycket|too large|too big)'
        THEN 'too_large'
    WHEN reason ~* '(för kort|kort tid|tidsfrist|deadline|hinner inte lämna|too short)'
        THEN 'deadline_too_short'
    WHEN reason ~* '(kapacitet|fullbokade|fullt upp|inte just nu|inte nu|no capacity|fully booked)'
        THEN 'no_capacity'
    WHEN btrim(reason) <> '' THEN 'other'
END
WHERE NOT interested;

ALTER TABLE need_interest ADD CONSTRAINT need_interest_reason_code CHECK (
    CASE WHEN interested THEN reason_code IS NULL
         ELSE reason_code IS DISTINCT FROM 'other' OR btrim(reason) <> '' END
);

-- A supplier's recent answers, read when deciding whether to tell it about a need.
CREATE INDEX need_interest_supplier_answered ON need_interest (supplier_id, answered_at);
