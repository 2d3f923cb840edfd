"""The descriptions (``FLD_DESC``) the sandbox's data dictionary gives each field, in Dutch as AccountView does.

- dumped tables: the descriptions of the public dictionary dumps, word for word (``dictionary.py`` names the source
  and its MIT licence: "Copyright (c) 2020 Omniboost B.V.");
- observed tables and the change-tracking fields: ASSUMPTION, in the style of the dumps;
- assumed fields: ``assumptions.py`` gives each its description beside its name.

The doctor finds a tenant's own name of a field by its description, type, length and role, so these are what a
real administration is likely to show, not our field names spelled out.
"""

from __future__ import annotations

# fmt: off
_DUMPED: dict[str, str] = {
    "CONTACT": (
        "ACCT_BAL=Saldo|ACCT_BAL2=Saldo te betalen|ACCT_LINK=Type verzamelrekening|ACCT_NAME=Bedrijfsnaam|"
        "ACCT_NR=Verzamelrekening|ACCT_SND=Klank bedrijfsnaam|ADDRESS1=Adres|ADDR_LINE1=Adresregel 1|"
        "ADDR_LINE2=Adresregel 2|ADMIN_CONT=Administratiecontactpersoon|"
        "ADMIN_NAME=Administratiecontactpersoon|ADMIN_PP=Contactpersooncode|"
        "ADM_DEAR=Aanhef administratiecontactpersoon|AIEI_MAND=Altijd system-to-system|"
        "AIEM_MAND=Altijd via e-mail AutoInvoice|AIPR_MAND=Altijd printservice AutoInvoice|"
        "AI_NOWF=Ink.fact boeken in dagb 'Ink.f, geen workflow'|AMT_DD=Geselecteerd bedrag te ontvangen|"
        "AMT_DDMAX=Maximumincassobedrag|AMT_PAY=Geselecteerd bedrag te betalen|AMT_REC=Te ontvangen|"
        "AMT_REST=Restbedrag|AMT_REST2=Restbedrag te betalen|APX_LIST=Prijslijst art.prijzen|"
        "AUTH_EMP=Fiatteringsmedewerker|AUTO_INV=Facturering via AutoInvoice|BANK_ACC2=Bankrekening 2|"
        "BANK_ACCT=Bankrekening 1|BANK_AC_N1=Bankrekening 1 relatie|BANK_AC_N2=Bankrekening 2 relatie|"
        "BANK_SPLIT=Gecombineerde betaling verdelen|BLK_ACCT=Rekeningnummer G-rekening|"
        "BLK_BNK=Bankcode G-rekening|BLK_DATE=Datum bewijs betalingsgedrag onderaannemer|"
        "BLK_EINV=G-rekeninginfo in elektronische facturen toestaan|BLK_IBAN=IBAN G-rekening|"
        "BLK_PCT=Percentage G-rekening|BLK_SP=Geblokkeerd voor orders|BNK_CLEAR=Postbankrekening zuiver|"
        "BNK_CODE1=Bankcode, bankrekening 1|BNK_CODE2=Bankcode, bankrekening 2|"
        "BOS_CODE=AccountView Server-code|BOX_CITY=Plaats of plaats postadres|BV_NR=Aansluitnummer UWV|"
        "BV_PCT=Percentage UWV|BV_SUB=Crediteur UWV|CHN_ADRESS=Postadres dealer|CHN_CITY=Plaats dealer|"
        "CHN_CMAIL=E-mail hoofdcontactpersoon dealer|CHN_CONT=Hoofdcontactpersoon dealer|CHN_FAX=Fax dealer|"
        "CHN_MAIL=E-mail dealer|CHN_MEMB=Relatie is dealer|CHN_NAME=Bedrijfsnaam dealer|"
        "CHN_TEL=Telefoon dealer|CHN_TYPE=Dealerkanaal|CITY=Plaats|CNG_DATE=Datum laatste wijz|"
        "CNG_NR=Wijzignummer|CNG_USR=Gewijzigd door|CNT_CODE=ISO-landcode|COC_CODE=KvK-nummer|"
        "COMMENT1=Notitie deb/cred|COUNTRY=Land|CPA_CODE=Accountant|CRED_BAL=Kredietruimte|"
        "CRED_LIM=Kredietlimiet|CRED_SHOW=Ook als crediteur tonen|CR_AMT=Creditbedrag|CUR_CODE=Valutacode|"
        "CUR_SIGN=Valutasymbool|DD_ACT=Automatische incasso toegestaan|DEB_NR=Extern debiteurnr|"
        "DEB_NRV=Extern debiteur-/crediteurnummer|DEB_SHOW=Ook als debiteur tonen|"
        "DISC_CODE=Code betalingsconditie|DISC_PCT=Factuurkorting|"
        "DJIP_ACOR=Boekingsvoorstellen automatisch accepteren|DJIP_A_MAX=Maximumacceptatiebedrag|"
        "DJIP_A_UM=Maximumacceptatiebedrag gebruiken|DJIP_GRP=Voorstelregels groeperen|"
        "DJIP_TO_PI=Boekingsvoorstellen als inkoopfacturen verwerken|"
        "DJIP_WNOTE=Geen waarschuwing voor notitie in boekingsvoorstel|DR_AMT=Debetbedrag|"
        "EIA=Electronic Invoice Address|EL_CI=Baliefacturen per e-mail versturen|"
        "EL_DP=Aanbetalingen per e-mail versturen|EL_PO=Bestelbonnen per e-mail versturen|"
        "EL_PS=Pakbonnen per e-mail versturen|EL_RE=Aanmaningen per e-mail versturen|"
        "EL_SBS=Abonnementen per e-mail versturen|EL_SI=Facturen per e-mail versturen|"
        "EL_SO=Orderbevestigingen per e-mail versturen|EMP_CAT=Medewerkerklasse|EMP_NR=Verkoper/inkoper|"
        "FAX_BUS=Fax zakelijk|FIRST_WF=Eerste goedkeurder in de workflow|GIRO=Postbankrekening|"
        "GRAY_DATE=Graydon-importdatum|GRAY_INFO=Graydon-kredietinformatie|GRAY_LIM=Graydon-kredietlimiet|"
        "GRAY_SCORE=Graydon-score|HDQ_CODE=Hoofdvestiging|HDQ_MEMB=Nevenvestiging|IBAN_NR=IBAN 1|"
        "IBAN_NR2=IBAN 2|ICAT_CODE=IS categorie goederenstroom|ICNT_CODE=IS landcode|"
        "IMM_WF=Facturen direct naar workflow sturen|INP_DATE=Invoerdatum|INP_USR=Invoermedewerker|"
        "INV_ADDRES=Adres in landafhankelijke indeling (memo)|INV_ANNEX=Factuur en bijlagen samenvoegen|"
        "ISHP_CODE=IS vervoerswijze|ISXF_CODE=IS statistische factorcode|ISYS_CODE=IS stelsel|"
        "IS_COMP=Relatie is mijn concurrent|IS_THIRD=Relatie is derde partij|"
        "ITYPE_CODV=IS transactiecode (lang)|ITYP_CODE=IS transactiecode|"
        "K_VAL_DATE=Verificatiedatum KvK-nummer|LB_NR=Loonbelastingnummer|LB_PCT=Percentage loonbelasting|"
        "LB_SUB=Crediteur loonbelasting|LNG_CODE=Taalcode|LNK_ACCT=Standaardrekening|"
        "MAIL_BUS=E-mail zakelijk|MAIL_OPT=Mailing|MAIN_CONT=Contactpersoon|MAIN_PP=Hoofdcontactpersoon|"
        "MAND_B2B=Incassovorm: zakelijk|MAND_DATE=Datum ondertekening|MAND_ID=Kenmerk incassomachtiging|"
        "MC_DEAR=Aanhef hoofdcontactpersoon|MC_MAILB=E-mail hoofdcontactpersoon|"
        "MRN_LIST=Prijslijst partnerkorting|NO_APPR=Uitsluiten van workflow|OPP_CURSOL=Pakketkeuze|"
        "OPP_SRC=Bron|PAY_NAME=Korte bedrijfsnaam|PCT_LIST=Prijslijst kortingspercentages|"
        "PD_PFX=Betalingskenmerk|PG_BLK=Geblokkeerd voor autom betaling|POL_PRIO=Uitleverprioriteit|"
        "POST_CODE=Postcode|PO_BOX=Postadres|PO_CITY=Plaats postadres|PO_CODE=Postcd postadres|"
        "PROJ_CRED=Projectcrediteur|QD_CODE=Prijslijstcode|REC_BLK=Geblokkeerd|"
        "REM_ADDR=Adres crediteurenadministratie in landafh indeling|REM_BLK=Geblokkeerd voor aanmaningen|"
        "REV_CAT=Omzetcategorie|RPL_CHN=Dealer van relatie|RPL_GRP=Relatiegroep|"
        "RPL_INV=Factuurdebiteur/crediteur|RPL_TYPE=Relatietype|RPL_USER=Relatie is klant|"
        "SALE_AMT=Omzet huidig jaar|SALE_PY=Omzet vorig jaar|SCAN_ID=Scanb-relatienr|SG_CODE=Versie|"
        "SHIP_COMP=Geen deelleveringen toegestaan|SHIP_MTH=Vervoersmethode|"
        "SHOW_MEMPO=Notitie tonen bij toevoegen inkooporder|"
        "SHOW_MEMSO=Notitie tonen bij toevoegen verkooporder|SIC_CODE=Branchecode|"
        "SO_ANNEX=Orderbevestiging en bijlagen samenvoegen|SP_POSTADR=Adres aflevering|"
        "SRC_CODE=Zoekcode bedrijf|SRC_PC=Postcode (snelzoeken)|ST_EXTRA=Adres-toevoeging|ST_NR=Huisnummer|"
        "ST_PROP=Gebouw|ST_REGION=Adres-regio|ST_STREET=Straatnaam|SUB_NR=Debiteur-/crediteurnummer|"
        "SYNC_STATE=Synchronisatiestatus|TEL_BUS=Telefoon zakelijk|TEL_MOB=Telefoon mobiel|"
        "TRANS_NR=Aantal mutaties|VAT_CODE=BTW-code|VAT_DATE=Verificatiedatum|VAT_NR=BTW-nummer|"
        "VIS_ADDRES=Bezoekadres in landafhankelijke indeling (memo)|WF_AUTHEMP=IFA-medewerker|"
        "WF_DIRECT=Direct boeken op kostenrekeningen (IFA)|WWW_URL=Website"
    ),
    "VAT": (
        "ACCT_MEMO=Rekeningnummer BTW verlegd|CALC_CUM=BTW berekenen over BTW|CALC_TYPE=BTW-rekenwijze|"
        "CNG_DATE=Wijzigingsdatum|CNG_NR=Wijzignummer|CNG_USR=Medewerker laatste wijziging|"
        "COGS_TYPE=BTW toevoegen aan kostprijs|FRM_CODE=Rubr.code|FRM_MEMO=Gekoppelde rubriek BTW verlegd|"
        "INP_DATE=Invoerdatum|INP_USR=Invoermedewerker|IS_ABC=ABC-transactie|IS_REVERSE=BTW verlegd|"
        "VAT_ACCT=Rekeningnr|VAT_CODE=BTW-code|VAT_LINK=Gekoppelde code|VAT_NAME=Omschrijving BTW-code|"
        "VAT_PCT=BTW-percentage|VAT_TYPE=BTW-type (numeriek)"
    ),
    "LEDGER": (
        "ACCT_ALLOC=Saldo leegboeken naar|ACCT_BAL=Rekeningsaldo|ACCT_COST=Kostprijsrekening|"
        "ACCT_LINK=Type verzamelrekening|ACCT_NAME=Omschrijving rekening|ACCT_NR=Rekeningnr|"
        "ACCT_PROJ=Projectrekening|ACCT_TYPE=Rekeningtype|ACT_PY=Saldo vorig jaar|BAL_BAL=Balans|BAL_PL=V&W|"
        "CLT_BLK=Geblokkeerd voor cliënt|CNG_DATE=Wijzigingsdatum|CNG_NR=Wijzignummer|"
        "CNG_USR=Medewerker laatste wijziging|CON_ACCT=Consolidatierekening statutair|"
        "CON_ACCT2=Consolidatierekening intern|COR_BAL=Saldo VJP's|COR_CAMT=Creditbedrag correcties|"
        "COR_DAMT=Debetbedrag correcties|COST_CODE=Kostenplaatscode|COST_MAND=Kostenplaatscode verplicht|"
        "CO_ACCT=Tussenrekening|CR_AMT=Creditbedrag|CR_AMTMIN=Negatief creditbedrag|"
        "CUR_CAMT=Valutabedrag credit|CUR_CODE=Valutacode|CUR_DAMT=Valutabedrag debet|"
        "DIST_CODE=Verdeelsleutel|DOSS_DESC=Notitie|DOSS_REF=Dossierreferentie|DR_AMT=Debetbedrag|"
        "EFS_CHK=Element van te controleren taxonomie|EFS_LEDG=Element van administratietaxonomie|"
        "FA_ACCT=Activumrekening|FA_SELL=Activumverk.rek|INP_DATE=Invoerdatum|INP_USR=Invoermedewerker|"
        "JRNL_QTY=Aantal journaalregels controleren|LDG_STAT=Rekeningstatus|NORM_STAT=Normaal saldo|"
        "NOT_DASH=Niet opnemen in dashboardgrafieken|PART_MAND=Vennoot verplicht|PC_CODE=Kostensoortcode|"
        "PRE_COR=Voor VJP's|PRE_CORC=Voor VJP's credit|PRE_CORD=Voor VJP's debet|"
        "PROJ_EXP=Projectkosten/-opbrengsten declarabel|PROJ_OBLI=Projectverplichtingen|"
        "PRO_ATTR=Gekoppelde projectdimensies|QTY_MAND=Aantal verplicht|REC_BLK=Geblokkeerd|"
        "REC_SYS=Systeemrecord|REV_ACCT=Valuta herwaarderen|RUBRIEKEN=Rubrieken|SL_CODE1=Subadministratie 1|"
        "SL_CODE2=Subadministratie 2|SL_CODE3=Subadministratie 3|SPLIT_PA=Per vennoot uitsplitsen|"
        "STAT_ORIG=Oorspronkelijke rekeningstatus|STAT_SELL=Omzetrekening|"
        "SUM_RPT=Op grootboekkrt.rapp samenvatten|TRANS_NR=Aantal mutaties|VAT_CODE=BTW-code|"
        "VAT_MAND=BTW-code verplicht|WF_ALLOW=Rekening geschikt voor gebruik in IFA|"
        "WGT_MAND=Gewicht verplicht|WKR_TRN=Mutatie ten laste van vrije ruimte WKR|"
        "XBRL_SPEC=XBRL-specificatie"
    ),
    "DAILY": (
        "ACCT_PUW=Rekening betalingen onderweg|ACCT_RUW=Rekening ontvangsten onderweg|"
        "BNK_ACCT=Bankrekening dagboek|BNK_ACCTV=Bankrekening dagboek|BNK_CODE=Bankcode|"
        "CHECK_NR=Laatst gebruikte cheque-nummer|CHK_BAL=Bladzijdesaldi controleren|"
        "CHK_DIF=Verschillen controleren|CLT_BLK=Geblokkeerd voor cliënt|"
        "CNG_BLK=Handmatige wijzigingen geblokkeerd|CNG_DATE=Wijzigingsdatum|CNG_NR=Wijzignummer|"
        "CNG_USR=Medewerker laatste wijziging|CNT_CODE=ISO-landcode|CRED_LIM=Kredietlimiet bankrekening|"
        "CUR_CODE=Valutacode|DJP_BLK=Bladzijde automatisch blokkeren|DJ_ACCT=Gekoppelde rekening|"
        "DJ_CODE=Dagboekcode|DJ_COMB=Verdicht boeken|DJ_EXT=Extern dagboek|DJ_NAME=Dagboeknaam|"
        "DJ_OWNER=Dagboekeigenaar|DJ_RECON=Bankaflettering|DJ_TYPE=Type dagboek (numeriek)|"
        "DJ_TYPEV=Type dagboek|EXCH_STAT=Uitwisselingsstatus|GREK_BANK=Geblokkeerde bankrekening|"
        "GROSS_FLG=Bruto-invoer|HDR_DESC=Omschrijving dagboekbladzijde|IBAN_NR=IBAN|INP_DATE=Invoerdatum|"
        "INP_USR=Invoermedewerker|LAY_CHECK=Layout cheque|LAY_REMIT=Layout cheque-begeleiding|"
        "LINE_DESC=Omschrijving dagboekregels|LST_STMT=Laatst ingelezen bankafschrift|"
        "NUM_AUTO=Document-/factuurnummers automatisch uitdelen|NUM_GRP=Document-/factuurnummergroep|"
        "PA_CODE=Vennoot|PD_DESC=Betalingsreferentie|"
        "SEND_APPR=Nieuwe bladzijden verplicht in de workflow sturen|SYS_VAL=Systeemvalidaties"
    ),
    "DJ_PAGE": (
        "ACCT_NR=Rekeningnr|ACCT_POST=Direct op grootboekrek boeken|ACCT_UPD=Wijziging accountant|"
        "APPR_SEQ=Approval-volgummer|APPR_STATE=Workflowstatus|AUTH_DATE=Laatste controledatum|"
        "AUTH_NR=Autorisatienr|AUTH_USR=Laatste controlegebruiker|BLK_AMT=Bedrag G-rekening|"
        "BLK_CUR=Bedrag G-rekening VV|BV_AMT=Bedrag UWV|BV_CUR=Bedrag UWV VV|CARD_NAME=Creditcardnaam|"
        "CARD_NR=Creditcardnr|CHECK_AMT=Cheque-bedrag|CHECK_PRN=Cheque afgedrukt|"
        "CHECK_WD=Cheque-bedrag voluit|CLT_UPD=Wijziging cliënt|CNG_DATE=Wijzigingsdatum|CNG_NR=Wijzignummer|"
        "CNG_USR=Medewerker laatste wijziging|COMMENT1=Notitie|COST_CODE=Kostenplaatscode|"
        "CRED_DAYS=Betalingstermijn in dagen|CUR_AMT=Totaal valuta|CUR_CODE=Valutacode|"
        "CUR_VAT=BTW-valutatotaal|DD_ACT=Automatische incasso|DISC_CODE=Betalingsconditie|"
        "DISC_DAYS=Kortingstermijn in dagen|DJL_RATE=Valutakoers vreemde valutadagboek|DJ_CODE=Dagboekcode|"
        "DOC_ID=Documentcode|DOC_TYPE=Documenttype|EA_VOUCHER=ID van het boekstuk in eAccounting|"
        "EBANK_ID=Bankkoppeling-identificatie|EBANK_STAT=Status bankkoppeling|EXCH_RATE=Valutakoers|"
        "EXP_CLI=Export naar cliënt|EXP_DATE=Geldig tot|EXP_DJP=Geëxporteerde dagboekbladzijden|"
        "EXP_SYS=Oude waarde van sys_gen|EXT_DESC=Betalingsreferentie|"
        "FIRST_WF=Eerste goedkeurder in de workflow|GROSS_FLG=Basisbedrag incl BTW weergeven|"
        "HDR_DESC=Omschrijving bladzijde|IMP_CODE=Dagboekbericht|INP_DATE=Invoerdatum|"
        "INP_USR=Invoermedewerker|INV_NR=Document-/factuurnummer|LB_AMT=Bedrag loonbelasting|"
        "LB_CUR=Bedrag loonbelasting VV|MAND_B2B=Incassovorm: zakelijk|MAND_DATE=Datum ondertekening|"
        "MAND_ID=Kenmerk incassomachtiging|MAND_SEQ=Incassomachtiging|NETT_AMT=Netto bladsaldo|"
        "NO_POST=Bladzijde niet boeken|OWN_CNG_DT=Wijzigingsdatum eigenaar|PAGE_AMT=Bladsaldo|"
        "PAGE_AMTT=Eindsaldo|PAGE_EAMT=Eindsaldo|PAGE_NR=Bladzijdenummer (teken)|"
        "PAGE_NRD=Bladzijdenummer (omschrijving)|PAGE_NRV=Bladzijdenummer|PAGE_VAT=BTW-bedrag bladzijde|"
        "PAYIN_ID=Pay-in ID|PAY_ID=Betalingscode|PAY_TYPE=Betaalwijze|PD_AMT=Bedrag betalingskorting|"
        "PD_PCT=Percentage betalingskorting|PERIOD=Periode|PREV_AMT=Beginsaldo bladzijde|"
        "PRN_CHECK=Cheque afdrukken|PRN_RA=Cheque-begeleiding afdrukken|PROJ_CODE=Projectcode|"
        "REC_BLK=Geblokkeerd|STMT_DATE=Datum afschrift|STMT_LINE=Bankafschriftregel|STMT_NR=Bankafschrift|"
        "SUB_NR=Debiteur/Crediteur|SYS_GEN=Bladzijde gegenereerd door systeem|SYS_VAL=Systeemvalidaties|"
        "TGT_BAL=Controlesaldo|TRN_DATE=Mutatiedatum|USR_NAME=Laatst gewijzigd door|"
        "VEXCH_RATE=Valutakoers (import)"
    ),
    "DJ_LINE": (
        "ACCR_PY=Posten vorig boekjaar|ACCT_NR=Rekeningnr|ADM_CODE=Admin.code|AMOUNT=Mutatiebedrag|"
        "BANK_DESC=Omschrijving bankmutatie|BASE_AMT=Basisbedrag BTW|BEG_PER=Begin periode|"
        "CN_ID=Unieke consolidatiecode|COST_CODE=Kostenplaatscode|CRED_DAYS=Betalingstermijn in dagen|"
        "CUR_AMT=Valutabedrag|CUR_CODE=Valutacode|CUR_VAT=BTW-bedrag vreemde valuta|DIF_AMT=Verschilbedrag|"
        "DIF_CUR=Valutaverschil|DIF_TYPE=Type verschil|DIST_CODE=Verdeelsleutel|DIST_QTY=Aantal|"
        "DJL_RATE=Valutakoers dagboekregel|DJ_CODE=Dagboekcode|EBNK_STAT=Status bankkoppeling|"
        "END_PER=Eind periode|EXCH_RATE=Valutakoers|EXP_ID=Export-ID|GREK_TYPE=Transactietype G-rekening|"
        "HOME_DIF=Verschil in adm.valuta|INV_NR=Document-/factuurnummer|OBLI_NR=Verplichtingnummer|"
        "PAGE_NR=Bladzijdenummer (teken)|PAGE_NRV=Bladzijdenummer|PART_CODE=Vennoot|PC_CODE=Kostensoortcode|"
        "PDIF_VAT=BTW-bedrag betalingskorting|PROJ_CODE=Projectcode|RA_AMT=Bedrag cheque-begeleiding|"
        "RA_DISC=Kortingsbedrag cheque-begeleiding|REC_ID=Unieke code|REC_ORD=Regelvolgorde|"
        "SRC_ID=Identificatie bron|SRC_TYPE=Brontype|SUB_NR=Debiteur-/crediteurnummer|TRN_DATE=Mutatiedatum|"
        "TRN_DESC=Omschrijving regel|TRN_QTY=Aantal (agr)|TRN_WGT=Gewicht|VAT_AMT=BTW-bedrag|"
        "VAT_CODE=BTW-code|VEXCH_RATE=Valutakoers (import)|WKR_TRN=Mutatie ten laste van vrije ruimte WKR"
    ),
}

# ASSUMPTION: descriptions of the fields seen in client code, and of the change-tracking fields every table has.
_OBSERVED: dict[str, str] = {
    "ARTICLE": (
        "ART_CODE=Artikelcode|ART_DESC1=Artikelomschrijving|AG_CODE=Artikelgroep|PX_SELL=Verkoopprijs|"
        "COST_PX=Gemiddelde kostprijs|L_COSTPX=Laatste inkoopprijs|B_COSTPX=Basiskostprijs|"
        "QTY_AVAIL=Beschikbare voorraad|QTY_FREE2=Vrije voorraad 2|IMG_MEDIUM=Afbeelding (bestand)|"
        "IMG_M_DATA=Afbeelding"
    ),
    "ART_GRP": "AG_CODE=Artikelgroep|AG_DESC=Omschrijving artikelgroep",
    "DEL_ADDR": (
        "REC_ID=Unieke code|SUB_NR=Debiteurnummer|DEL_NAME=Naam afleveradres|ADDRESS1=Adres|POST_CODE=Postcode|"
        "CITY=Plaats|CNT_CODE=ISO-landcode|MAIL_BUS=E-mail zakelijk|TEL_BUS=Telefoon zakelijk"
    ),
    "SO_HDR": (
        "ORD_DATE=Orderdatum|INV_DATE=Factuurdatum|DEL_DATE=Leverdatum|RPL_INV=Factuurdebiteur|"
        "RPL_DEL=Afleverdebiteur|DEL_CODE=Afleveradres|COMMENT1=Notitie|COMMENT2=Notitie 2|TO_EMAIL=E-mailadres|"
        "PD_AMT=Kortingsbedrag|EMP_NR=Verkoper|APX_LIST=Prijslijst art.prijzen"
    ),
    "SO_LINE": "DEL_DATE=Leverdatum|ART_CODE=Artikelcode|ORD_QTY=Aantal besteld|ART_PX=Prijs per eenheid",
}
CHANGE_TRACKING: dict[str, str] = {
    "INP_DATE": "Invoerdatum", "INP_USR": "Invoermedewerker", "CNG_DATE": "Wijzigingsdatum",
    "CNG_USR": "Gewijzigd door", "CNG_NR": "Wijzignummer",
}
# fmt: on


def _parse(spec: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in spec.split("|"))


LABELS: dict[str, dict[str, str]] = {table: _parse(spec) for table, spec in {**_DUMPED, **_OBSERVED}.items()}


def label(table: str, field: str) -> str:
    """The description of ``table.field`` (our names), or the field's name in words when nothing better is known."""
    known = LABELS.get(table, {}).get(field) or CHANGE_TRACKING.get(field)
    return known or field.replace("_", " ").lower()
