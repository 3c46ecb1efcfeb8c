---<<BOOT>>---
Copyright (c) 1992-2025 The FreeBSD Project.
Copyright (c) 1979, 1980, 1983, 1986, 1988, 1989, 1991, 1992, 1993, 1994
	The Regents of the University of California. All rights reserved.
FreeBSD is a registered trademark of The FreeBSD Foundation.
FreeBSD 14.3-RELEASE-p4 GENERIC amd64
FreeBSD clang version 19.1.7 (https://github.com/llvm/llvm-project.git llvmorg-19.1.7-0-gcd708029e0b2)
VT(efifb): resolution 1024x768
CPU: Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz (3600.00-MHz K8-class CPU)
  Origin="GenuineIntel"  Id=0x906ea  Family=0x6  Model=0x9e  Stepping=10
  Features=0xbfebfbff<FPU,VME,DE,PSE,TSC,MSR,PAE,MCE,CX8,APIC,SEP,MTRR,PGE,MCA,CMOV,PAT,PSE36,CLFLUSH,DTS,ACPI,MMX,FXSR,SSE,SSE2,SS,HTT,TM,PBE>
  Features2=0x7ffafbff<SSE3,PCLMULQDQ,DTES64,MON,DS_CPL,VMX,SMX,EST,TM2,SSSE3,SDBG,FMA,CX16,xTPR,PDCM,PCID,SSE4.1,SSE4.2,x2APIC,MOVBE,POPCNT,TSCDLT,AESNI,XSAVE,OSXSAVE,AVX,F16C,RDRAND>
  AMD Features=0x2c100800<SYSCALL,NX,Page1GB,RDTSCP,LM>
  AMD Features2=0x121<LAHF,ABM,Prefetch>
  Structured Extended Features=0x29c6fbf<FSGSBASE,TSCADJ,SGX,BMI1,HLE,AVX2,SMEP,BMI2,ERMS,INVPCID,RTM,NFPUSG,MPX,RDSEED,ADX,SMAP,CLFLUSHOPT,PROCTRACE>
  Structured Extended Features3=0x9c002600<MCUOPT,MD_CLEAR,TSXFA,IBPB,STIBP,L1DFL,SSBD>
  XSAVE Features=0xf<XSAVEOPT,XSAVEC,XINUSE,XSAVES>
  VT-x: PAT,HLT,MTF,PAUSE,EPT,UG,VPID
  TSC: P-state invariant, performance statistics
real memory  = 68717379584 (65534 MB)
avail memory = 66709450752 (63619 MB)
Event timer "LAPIC" quality 600
ACPI APIC Table: <ALASKA A M I >
FreeBSD/SMP: Multiprocessor System Detected: 8 CPUs
FreeBSD/SMP: 1 package(s) x 8 core(s)
ioapic0 <Version 2.0> irqs 0-119
acpi0: <ALASKA A M I >
pcib0: <ACPI Host-PCI bridge> port 0xcf8-0xcff on acpi0
pci0: <ACPI PCI bus> on pcib0
pcib1: <ACPI PCI-PCI bridge> irq 16 at device 1.0 on pci0
pci1: <ACPI PCI bus> on pcib1
vgapci0: <VGA-compatible display> port 0x4000-0x403f mem 0xa0000000-0xa0ffffff,0x90000000-0x9fffffff irq 16 at device 2.0 on pci0
vgapci0: Boot video device
xhci0: <Intel Cannon Lake USB 3.1 controller> mem 0x91200000-0x9120ffff irq 16 at device 20.0 on pci0
ahci0: <Intel Cannon Lake AHCI SATA controller> port 0x4050-0x4057,0x4040-0x4043,0x4020-0x403f mem 0x91234000-0x91235fff,0x91237000-0x912370ff,0x91236000-0x912367ff irq 16 at device 23.0 on pci0
pcib2: <ACPI PCI-PCI bridge> irq 16 at device 1.0 on pci0
pci2: <ACPI PCI bus> on pcib2
vgapci1: <VGA-compatible display> port 0x3000-0x307f mem 0xa2000000-0xa2ffffff,0x4000000000-0x400fffffff,0x4010000000-0x4011ffffff irq 16 at device 0.0 on pci2
hdac0: <NVIDIA (0x10f7) HDA Controller> mem 0xa3080000-0xa3083fff irq 17 at device 0.1 on pci2
xhci1: <XHCI (generic) USB 3.0 controller> mem 0x4012000000-0x401203ffff,0x4012040000-0x401204ffff irq 18 at device 0.2 on pci2
pcib3: <ACPI PCI-PCI bridge> irq 16 at device 27.0 on pci0
pci3: <ACPI PCI bus> on pcib3
igb0: <Intel(R) I210 Flashless (Copper)> port 0x5000-0x501f mem 0xa3100000-0xa31fffff,0xa3200000-0xa3203fff irq 16 at device 0.0 on pci3
igb0: Using 1024 TX descriptors and 1024 RX descriptors
igb0: Ethernet address: 3c:ec:ef:10:22:99
nvme0: <Generic NVMe Device> mem 0xa3000000-0xa3003fff irq 16 at device 0.0 on pci4
isab0: <PCI-ISA bridge> at device 31.0 on pci0
isa0: <ISA bus> on isab0
dmar0: <DMA remap> iomem 0xfed90000-0xfed90fff on acpi0
dmar1: <DMA remap> iomem 0xfed91000-0xfed91fff on acpi0
Trying to mount root from zfs:zroot/ROOT/default []...
