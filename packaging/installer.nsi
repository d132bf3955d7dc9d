; QuantDesk's Windows installer: per user (no administrator rights), Start-menu and desktop shortcuts,
; an uninstaller that keeps the user's jobs, settings, runtime and models unless asked to remove them.
; Compiled by packaging/build.py: makensis -DVERSION=x -DPAYLOAD=<the onedir folder> -DOUTFILE=<setup.exe>
; Silent: QuantDesk-x-setup.exe /S [/D=C:\path with spaces\量化]   Uninstall: Uninstall.exe /S [/PURGE]
Unicode true
!include "MUI2.nsh"
!include "FileFunc.nsh"

!define APP "QuantDesk"
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !define PAYLOAD "..\dist\QuantDesk"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\QuantDesk-setup.exe"
!endif
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "Software\${APP}" "InstallDir"
!ifndef COMPRESSOR
  !define COMPRESSOR "/SOLID lzma"
!endif
SetCompressor ${COMPRESSOR}

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"

Section "${APP}" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  IfFileExists "$INSTDIR\QuantDesk.exe" 0 +2
    RMDir /r "$INSTDIR\_internal"  ; an upgrade: files of the older version must not linger
  File /r "${PAYLOAD}\*"
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortcut "$SMPROGRAMS\${APP}\${APP}.lnk" "$INSTDIR\QuantDesk.exe"
  CreateShortcut "$SMPROGRAMS\${APP}\Uninstall ${APP}.lnk" "$INSTDIR\Uninstall.exe"
  CreateShortcut "$DESKTOP\${APP}.lnk" "$INSTDIR\QuantDesk.exe"
  WriteRegStr HKCU "Software\${APP}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "QuantDesk"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\QuantDesk.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

; Only what the installer wrote is removed: never a folder the user picked with other files in it.
Section "un.${APP}" UnApp
  SectionIn RO
  IfFileExists "$INSTDIR\QuantDesk.exe" +2 0
    Abort "$INSTDIR does not hold QuantDesk: nothing was removed"
  Delete "$SMPROGRAMS\${APP}\${APP}.lnk"
  Delete "$SMPROGRAMS\${APP}\Uninstall ${APP}.lnk"
  RMDir "$SMPROGRAMS\${APP}"
  Delete "$DESKTOP\${APP}.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\QuantDesk.exe"
  Delete "$INSTDIR\quantdesk.com"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\${APP}"
SectionEnd

; Unticked by default (and in a silent uninstall unless /PURGE): job history, settings, logs, the ML
; runtime and the serving engines. Models and outputs in the user's own folders are never touched.
Section /o "un.Also remove my jobs, settings, ML runtime and engines" UnData
  RMDir /r "$LOCALAPPDATA\${APP}"
SectionEnd

Function un.onInit
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/PURGE" $1
  IfErrors +2 0
    SectionSetFlags ${UnData} ${SF_SELECTED}
FunctionEnd
