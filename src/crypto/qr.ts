// QR code for TOTP enrolment, rendered server-side as SVG so the secret never goes to a third-party QR service and
// the frontend needs no QR library.
import QRCode from 'qrcode';

/**
 * An SVG QR code for `text` (an otpauth:// URI). Error correction M survives a smudged or partly covered screen
 * while keeping the symbol small; margin 2 modules is enough quiet zone for phone cameras on a light page.
 */
export async function qrCodeSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
